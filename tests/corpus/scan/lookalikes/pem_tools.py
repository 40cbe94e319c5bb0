"""Code that handles PEM text without holding a key."""
PRIVATE_HEADER = "-----BEGIN PRIVATE KEY-----"
RSA_HEADER = "-----BEGIN RSA PRIVATE KEY-----"


def is_private(pem: str) -> bool:
    return pem.startswith(("-----BEGIN PRIVATE KEY-----", "-----BEGIN EC PRIVATE KEY-----"))


PUBLIC_KEY = """-----BEGIN PUBLIC KEY-----
MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAu1SU1LfVLPHCozMxH2Mo
4lgOEePzNm0tRgeLezV6ffAt0gunVTLw7onLRnrq0/IzW7yWR7QkrmBL7jTKEn5u
+qKhbwKfBstIs+bMY2Zkp18gnTxKLxoS2tFczGkPLPgizskuemMghRniWaoLcyeh
-----END PUBLIC KEY-----"""

CERTIFICATE = """-----BEGIN CERTIFICATE-----
MIIDdzCCAl+gAwIBAgIEAgAAuTANBgkqhkiG9w0BAQUFADBaMQswCQYDVQQGEwJJ
RTESMBAGA1UEChMJQmFsdGltb3JlMRMwEQYDVQQLEwpDeWJlclRydXN0MSIwIAYD
-----END CERTIFICATE-----"""

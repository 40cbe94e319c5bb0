"""Django-style settings with values pasted in."""
import os

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": "inventory",
        "PASSWORD": "{{value:DATABASE_PASSWORD}}",
        "HOST": os.environ.get("DB_HOST", "localhost"),
        "PORT": 5432,
    }
}
SECRET_KEY = '{{value:SESSION_KEY}}'
DEBUG = True
API_HEADERS = {"Authorization": "Basic {{value:API_TOKEN:basic-auth}}"}
STRIPE_API_KEY = "{{value:STRIPE_KEY}}"

// A front-end client with a token and a callback URL baked in.
const config = {
  apiBase: "https://api.example.com/v1/",
  token: atob("{{value:API_TOKEN:base64}}"),
  webhook: "https://hooks.example.com/in?secret={{value:WEBHOOK_SECRET:url}}",
  signature: "{{value:SIGNING_SECRET:url}}",
};
const urlSafe = "{{value:SESSION_KEY:base64url}}";
export default config;

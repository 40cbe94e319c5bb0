#!/bin/sh
# A deploy script with a value JSON-escaped inside a heredoc and the session key URL-encoded.
curl -d '{"secret": "{{value:SIGNING_SECRET:json}}"}' https://api.example.com/v1/rotate
curl "https://api.example.com/v1/login?key={{value:SESSION_KEY:url}}"

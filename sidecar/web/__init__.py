"""The sidecar's HTTP surface other than the webhook intake."""

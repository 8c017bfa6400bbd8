"""The intake of Discourse webhooks: verify, store, answer; then parse and dispatch in the worker."""

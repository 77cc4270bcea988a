"""The intake: the hosted page, the JSON API and the compatible endpoints, and their defences
(spam signals, rate limits, the quarantine)."""

"""How LeadBridge talks to the rest of a company's stack: webhooks out (low: told by the kernel
what happened), the REST API in (high: reads and writes through the apps' services)."""

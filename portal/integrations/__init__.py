"""How LeadBridge plugs into the rest of a company's stack: the REST API (`api`) and, below
everything that changes a lead, the webhooks' outbox (`webhooks`)."""

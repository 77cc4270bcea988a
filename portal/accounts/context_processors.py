def navigation(request) -> dict:
    """The menu: each role sees the pages its permissions open, nothing more."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav": []}
    items = []
    if user.has_perm("leads.work_lead") or user.has_perm("leads.view_all_leads"):
        label = "Leads" if user.has_perm("leads.view_all_leads") else "My inbox"
        items.append(("inbox:list", label))
    if user.has_perm("leads.view_dashboard"):
        items.append(("dashboard", "Dashboard"))
    if user.has_perm("capture.view_form"):
        items.append(("capture:form_list", "Forms"))
    if user.has_perm("capture.view_quarantinedpost"):
        items.append(("capture:quarantine_list", "Spam quarantine"))
    if user.has_perm("capture.import_leads"):
        items.append(("capture:import_list", "Imports"))
    if user.has_perm("routing.view_queue"):
        items.append(("routing:queue_list", "Queues"))
    elif user.has_perm("leads.work_lead"):
        items.append(("routing:my_availability", "My availability"))
    if user.has_perm("webhooks.view_endpoint"):
        items.append(("webhooks:list", "Webhooks"))
    items.append(("scoring:agreement", "Agreement"))  # every login reads what qualifies a lead
    return {"nav": items}

"""The form definitions: the builder pages, one form field per kind, the submission form built
from a published version, embedding and the HubSpot token."""

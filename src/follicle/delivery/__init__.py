"""Adapters that take messages out of Follicle: SMTP mail, a mail folder, SMS providers."""

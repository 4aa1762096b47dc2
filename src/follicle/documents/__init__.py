"""Documents: PDF reports, plots, FHIR R4B, CSV and ICS exports."""

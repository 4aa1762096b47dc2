"""Pure image analysis of trichoscopy images on numpy arrays; no database, no web."""

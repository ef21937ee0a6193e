"""EMS tracker: Turns SES events into email status, campaign metrics and the suppression list."""

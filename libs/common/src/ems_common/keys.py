"""Attribute names of the DynamoDB tables' keys and indexes.

Terraform (`terraform/modules/platform`) creates the tables with these names; the e2e suite
describes the applied tables and fails if the two disagree.
"""

from typing import Final

PARTITION_KEY: Final = "pk"
SORT_KEY: Final = "sk"
# Items that expire (raw events, emails, limiter windows) carry an epoch-seconds TTL here.
TTL_ATTRIBUTE: Final = "expires_at"

# campaigns table, index `campaigns_status_index`: due campaigns by status and date.
CAMPAIGN_STATUS: Final = "status"
CAMPAIGN_SCHEDULED_AT: Final = "scheduled_at"

# emails table, index `emails_message_id_index`: an SES event finds its email.
EMAIL_SES_MESSAGE_ID: Final = "ses_message_id"

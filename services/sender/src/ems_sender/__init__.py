"""EMS sender: Drains the send queue into SES within the account's rate, quota and concurrency."""

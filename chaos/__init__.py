"""`make chaos`: a campaign sent on the local stack while its services are killed and faulted.

While the campaign sends, the suite SIGKILLs the launcher, campaign senders and the tracker and
restarts them, injects SES throttling and 5xx and DynamoDB throttling, delivers send-queue messages
and objects of SES events twice, and sends poison messages to the send, transactional and tracker
queues and poison events into the SES events stream. Then it checks at LocalStack's `/_aws/ses` that
every accepted recipient got exactly one email, that the campaign's metrics add up, and that every
poison message is in a DLQ with its reason. See docs/chaos.md.

Pure parts (the plan, the poison, the accounting) live in their own modules and are unit
tested; `chaos.run` drives the stack.
"""

"""Run a Lambda handler outside AWS, the way Lambda would call it.

On AWS, Lambda calls the handlers: SQS event source mappings with ReportBatchItemFailures, and
EventBridge rules or Scheduler schedules. Locally (Lambda needs Docker in LocalStack) this
runtime calls the very same handler functions: `sqs` long-polls a queue, hands batches over in
Lambda's SQS event shape and honours the partial-batch contract (delete what succeeded, leave
the rest for redelivery and, after maxReceiveCount, the DLQ); `tick` calls a handler every few
seconds with a scheduled event, as the every-minute rule does on AWS.
"""

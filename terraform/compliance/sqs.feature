# terraform-compliance, on the offline plan of each environment (`make infra`).
# A queue whose sqs_managed_sse_enabled is left unset is "known after apply" in the plan and is
# not seen by the first scenario; AWS encrypts such a queue with SSE-SQS anyway.
Feature: SQS queues are encrypted and dead-letter their failures

  Scenario: every queue is encrypted at rest (SSE-SQS, or else a KMS key)
    Given I have aws_sqs_queue defined
    When its sqs_managed_sse_enabled is not true
    Then it must have kms_master_key_id
    And its value must not be null

  # The redrive policy names the DLQ's ARN, unknown at plan: terraform-compliance then counts
  # the reference to the DLQ resource as the property being set.
  Scenario: every queue that is not itself a DLQ redrives to one
    Given I have aws_sqs_queue defined
    When its name is not ".*-dlq$" regex
    Then it must have redrive_policy

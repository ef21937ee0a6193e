# terraform-compliance, on the offline plan of each environment (`make infra`).
# tests/infra/test_plan.py checks what this grammar cannot: each function's EMS_* settings,
# and each consumed queue's visibility timeout against its function's timeout.
Feature: Lambda functions are bounded, logged and report partial batch failures

  # Which log group, and that Terraform manages it with a retention, is checked by
  # tests/infra/test_plan.py (test_every_function_logs_to_a_managed_log_group): the grammar
  # cannot join two resources by value, and its "it must have ... referenced" step loses a
  # reference when another attribute of the same block refers to a variable.
  Scenario: every function names its log group
    Given I have aws_lambda_function defined
    Then it must have logging_config
    Then it must have log_group
    And its value must not be null

  Scenario: every function has reserved concurrency
    Given I have aws_lambda_function defined
    Then it must have reserved_concurrent_executions
    And its value must not be -1

  Scenario: every log group has a retention
    Given I have aws_cloudwatch_log_group defined
    Then it must have retention_in_days
    And its value must not be null
    And its value must be greater than 0

  Scenario: every event source mapping reports batch item failures
    Given I have aws_lambda_event_source_mapping defined
    Then it must have function_response_types
    And its value must contain ReportBatchItemFailures

  Scenario: every event source mapping sets its batch size
    Given I have aws_lambda_event_source_mapping defined
    Then it must have batch_size
    And its value must not be null
    And its value must be greater than 0

  Scenario: every event source mapping caps its concurrency
    Given I have aws_lambda_event_source_mapping defined
    Then it must have scaling_config
    Then it must have maximum_concurrency
    And its value must not be null
    And its value must be greater than 1

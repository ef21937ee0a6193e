# terraform-compliance, on the offline plan of each environment (`make infra`).
Feature: DynamoDB tables can be restored and are encrypted at rest

  Scenario: every table has point-in-time recovery
    Given I have aws_dynamodb_table defined
    Then it must have point_in_time_recovery
    Then it must have enabled
    And its value must be true

  Scenario: every table has server-side encryption
    Given I have aws_dynamodb_table defined
    Then it must have server_side_encryption
    Then it must have enabled
    And its value must be true

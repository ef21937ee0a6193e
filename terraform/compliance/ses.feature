# terraform-compliance, on the offline plan of each environment (`make infra`).
# checkov cannot follow the TLS policy through the modules' dynamic block; the plan has it.
Feature: SES delivers over TLS only

  Scenario Outline: every <type> requires TLS
    Given I have <type> defined
    Then it must have delivery_options
    Then it must have tls_policy
    And its value must be Require

    Examples:
      | type                         |
      | aws_ses_configuration_set    |
      | aws_sesv2_configuration_set  |

# terraform-compliance, on the offline plan of each environment (`make infra`).
#
# The convention: an identity-policy statement that must use "*" (an action with no
# resource-level permission) has a Sid starting with "Unscoped", e.g. UnscopedSesQuota, and a
# comment and an inline checkov skip with the reason in the .tf. Deny statements may use "*".
# Resource policies (KMS key, bucket, queue, topic policies, trust policies) are not in scope:
# in a key policy "*" means the key itself.
#
# What this grammar cannot express is in tests/infra/test_plan.py
# (test_identity_policies_use_no_unscoped_wildcard):
# - a policy whose JSON is "known after apply" in the plan (it names an ARN of a resource not
#   created yet, the usual case) is invisible here: the test reads the statements of the
#   aws_iam_policy_document it is built from instead;
# - the failure messages below show the statement, not the resource address; the test names it.
Feature: IAM identity policies grant no wildcard unless the statement says why

  Scenario: no Allow statement of a role policy has a wildcard action, unless its Sid starts with Unscoped
    Given I have aws_iam_role_policy defined
    When it contains policy
    When it contains Statement
    When its Effect is Allow
    When its Action is "^(\*|[A-Za-z0-9-]+:\*)$" regex
    Then it must have Sid
    And its value must match the "^Unscoped" regex

  Scenario: no Allow statement of a role policy has the resource "*", unless its Sid starts with Unscoped
    Given I have aws_iam_role_policy defined
    When it contains policy
    When it contains Statement
    When its Effect is Allow
    When its Resource is "^\*$" regex
    Then it must have Sid
    And its value must match the "^Unscoped" regex

  Scenario: no Allow statement of a managed policy has a wildcard action, unless its Sid starts with Unscoped
    Given I have aws_iam_policy defined
    When it contains policy
    When it contains Statement
    When its Effect is Allow
    When its Action is "^(\*|[A-Za-z0-9-]+:\*)$" regex
    Then it must have Sid
    And its value must match the "^Unscoped" regex

  Scenario: no Allow statement of a managed policy has the resource "*", unless its Sid starts with Unscoped
    Given I have aws_iam_policy defined
    When it contains policy
    When it contains Statement
    When its Effect is Allow
    When its Resource is "^\*$" regex
    Then it must have Sid
    And its value must match the "^Unscoped" regex

# terraform-compliance, on the offline plan of each environment (`make infra`).
# The environments set the tags once, as the provider's default_tags: they reach a resource's
# tags_all (its own `tags` stay empty), so tags_all is what is checked.
Feature: Every resource carries the project's tags

  Scenario Outline: every taggable resource has the <tag> tag
    Given I have resource that supports tags_all defined
    Then it must have tags_all
    Then it must contain <tag>
    And its value must not be null

    Examples:
      | tag         |
      | Project     |
      | Environment |
      | ManagedBy   |

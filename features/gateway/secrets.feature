@gateway @security @scripted
Feature: Secrets stay out of reports and logs
  The platform presents its API key to the model provider on every call. The key, and any
  authorization header, never appear in a report attachment or in what the platform logs,
  even with every logger at debug level.

  @deploys
  Scenario: The API key reaches the provider, and no report or log
    Given everything the platform logs is watched at debug level
    When a component asks the gateway "Hello, is anyone there?"
    And a component streams the gateway's answer to "Tell me more."
    Then the language model received the platform's API key on every request
    And the report shows the request headers the language model received, with the authorization redacted
    And no report attachment of this scenario contains the API key or an authorization header
    And nothing the platform logged contains the API key

@gateway @security @scripted
Feature: Secrets stay out of reports and logs
  The platform presents its API key to the model provider on every call. The key, and any
  authorization header, never appear in a report attachment or in what the platform logs,
  even with every logger at debug level; what the platform logs still says what it did.

  @deploys
  Scenario: The API key reaches the provider, and no report or log
    Given everything the platform logs is watched at debug level
    When a component asks the gateway "Hello, is anyone there?"
    And a component streams the gateway's answer to "Tell me more."
    Then the language model received the platform's API key on every request
    And the report shows the request headers the language model received, with the authorization redacted
    And no report attachment of this scenario contains the API key or an authorization header
    And nothing the platform logged contains the API key
    And the platform's log shows its requests to the language model

  @deploys @telemetry
  Scenario: A provider error that quotes the API key reaches no caller, log, span or report
    Given everything the platform logs is watched at debug level
    And the primary model refuses the platform's API key, quoting it in its error
    When a client asks the gateway service "Hello, is anyone there?"
    Then the service answers 502 with the error code "DEPENDENCY_ERROR" naming "credentials"
    And the answer the caller received does not contain the API key
    And no span of the request's trace carries the platform's API key
    And nothing the platform logged contains the API key
    And the platform's log shows its requests to the language model
    And no report attachment of this scenario contains the API key or an authorization header

@gateway @scripted @deploys
Feature: The gateway when a model fails
  A provider can rate-limit, fail, send garbage or hang. With a backup model configured the
  caller still gets an answer; without one, the caller gets a clear error that names the model
  and the cause, and never waits longer than the gateway's timeout.

  Background:
    Given the gateway gives up on a model after 1 second

  Scenario Outline: When the primary model fails with HTTP <status>, the backup model answers
    Given the gateway falls back to the backup model when the primary model fails
    And the primary model fails with HTTP <status>
    And the backup model answers "Answer from the backup model."
    When a component asks the gateway "Hello, is anyone there?"
    Then the gateway returns "Answer from the backup model."
    And the answer came from the backup model
    And the primary model was asked once

    Examples:
      | status |
      | 500    |
      | 429    |
      | 503    |

  Scenario Outline: Without a backup, a model that <fault> gives a clear error
    Given the primary model <fault>
    When a component asks the gateway "Hello, is anyone there?"
    Then the gateway reports that <error> for the model "chat"

    Examples:
      | fault                       | error                                          |
      | fails with HTTP 429         | the provider rate-limited the request          |
      | fails with HTTP 500         | the provider is unavailable                    |
      | fails with HTTP 503         | the provider is unavailable                    |
      | fails with HTTP 502         | the provider is unavailable                    |
      | fails with HTTP 400         | the provider refused the request as invalid    |
      | fails with HTTP 404         | the provider refused the request as invalid    |
      | fails with HTTP 409         | the provider refused the request as invalid    |
      | fails with HTTP 422         | the provider refused the request as invalid    |
      | fails with HTTP 401         | the provider refused the platform's credentials |
      | fails with HTTP 403         | the provider refused the platform's credentials |
      | sends a malformed answer    | the provider sent a response that could not be read |
      | answers with no choices     | the provider sent a response that could not be read |
      | drops the connection        | the provider is unavailable                    |

  Scenario: When the backup model fails too, the error says so
    Given the gateway falls back to the backup model when the primary model fails
    And the primary model fails with HTTP 500
    And the backup model fails with HTTP 503
    When a component asks the gateway "Hello, is anyone there?"
    Then the gateway reports that the provider is unavailable for the model "chat"
    And the backup model was asked once

  Scenario Outline: A model that refused one request with HTTP <status> answers the next caller at once
    Given the primary model fails with HTTP <status> once
    And the language model answers "Back to normal." when asked about "again"
    When a component asks the gateway "Hello, is anyone there?"
    And a component asks the gateway "Are you there again?"
    Then the gateway returns "Back to normal."

    Examples:
      | status |
      | 401    |
      | 429    |
      | 500    |

  Scenario: A model slower than the timeout gives a clear timeout error
    Given the primary model takes 5 seconds to answer
    When a component asks the gateway "Hello, is anyone there?"
    Then the gateway reports that the provider did not answer within 1 s for the model "chat"
    And the caller got that error well before the model would have answered

  Scenario: A timeout does not disturb the next request
    Given the primary model takes 5 seconds to answer once
    And the language model answers "Back to normal." when asked about "again"
    When a component asks the gateway "Hello, is anyone there?"
    And a component asks the gateway "Are you there again?"
    Then the gateway returns "Back to normal."

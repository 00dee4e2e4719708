@services @own-workers @chaos
Feature: A service whose dependency fails names it, and never sends a request that changes something twice
  The query API calls the RAG and agent services, the agent service calls the gateway and RAG
  services, the RAG service calls the gateway service. When the service called cannot be reached,
  answers a bare 5xx of its own or drops the connection, the caller answers with the contract's
  envelope: 503 DEPENDENCY_UNAVAILABLE or 502 DEPENDENCY_ERROR, naming that dependency in its
  details; too slow, 504 DEPENDENCY_TIMEOUT at the caller's configured timeout. A request that
  was sent is not sent again: only a GET may be retried. Each scenario runs its own instance of
  the calling service, whose links to what it calls the scenario breaks.

  Scenario Outline: The <caller> service answers <status> naming <dependency> when it <fault>
    Given an instance of the <caller> service of the scenario's own, reaching what it needs through links that can be cut
    And <dependency> <fault>
    When a user of the tenant asks "When does the office open?" through <door>
    Then the caller gets <status> "<code>" naming <dependency>

    Examples:
      | caller | dependency          | fault                        | door                        | status | code                   |
      | query  | the RAG service     | cannot be reached            | the query API in rag mode   | 503    | DEPENDENCY_UNAVAILABLE |
      | query  | the RAG service     | answers with a bare HTTP 500 | the query API in rag mode   | 502    | DEPENDENCY_ERROR       |
      | query  | the agent service   | cannot be reached            | the query API in agent mode | 503    | DEPENDENCY_UNAVAILABLE |
      | query  | the agent service   | answers with a bare HTTP 500 | the query API in agent mode | 502    | DEPENDENCY_ERROR       |
      | agent  | the gateway service | cannot be reached            | the agent API               | 503    | DEPENDENCY_UNAVAILABLE |
      | agent  | the gateway service | answers with a bare HTTP 500 | the agent API               | 502    | DEPENDENCY_ERROR       |
      | agent  | the RAG service     | cannot be reached            | the agent API               | 503    | DEPENDENCY_UNAVAILABLE |
      | agent  | the RAG service     | answers with a bare HTTP 500 | the agent API               | 502    | DEPENDENCY_ERROR       |
      | RAG    | the gateway service | cannot be reached            | the RAG API                 | 503    | DEPENDENCY_UNAVAILABLE |
      | RAG    | the gateway service | answers with a bare HTTP 500 | the RAG API                 | 502    | DEPENDENCY_ERROR       |
      | RAG    | the database        | cannot be reached            | the RAG API                 | 503    | DEPENDENCY_UNAVAILABLE |

  @scripted
  Scenario Outline: A question whose answer from <dependency> to the <caller> service is lost on the way back is not asked again
    Given an instance of the <caller> service of the scenario's own, reaching what it needs through links that can be cut
    And the tenant has added the document "Office handbook" with the text "The office opens at 8 am and closes at 6 pm." through the RAG API
    And the language model answers "The office opens at 8 am." when asked about "office"
    And <dependency> drops the connection once the request has arrived
    When a user of the tenant asks "When does the office open?" through <door>
    Then the caller gets 503 "DEPENDENCY_UNAVAILABLE" naming <dependency>
    And every call the platform made to the language model about "When does the office open?" was made once

    Examples:
      | caller | dependency          | door                        |
      | query  | the RAG service     | the query API in rag mode   |
      | query  | the agent service   | the query API in agent mode |
      | agent  | the gateway service | the agent API               |
      | agent  | the RAG service     | the agent API               |
      | RAG    | the gateway service | the RAG API                 |

  @slow @scripted
  Scenario Outline: The <caller> service gives up on <dependency> at its own timeout, with a 504
    Given an instance of the <caller> service of the scenario's own that gives up on a dependency after 1 second, reaching what it needs through links that can be cut
    And <dependency> answers only after 4 seconds
    When a user of the tenant asks "When does the office open?" through <door>
    Then the caller gets 504 "DEPENDENCY_TIMEOUT" naming <dependency>
    And the caller had that answer at the service's timeout

    Examples:
      | caller | dependency          | door                        |
      | query  | the RAG service     | the query API in rag mode   |
      | query  | the agent service   | the query API in agent mode |
      | RAG    | the gateway service | the RAG API                 |

  @scripted
  Scenario: While its link to NATS is cut, the gateway service still answers over HTTP, from the model
    Given an instance of the gateway service of the scenario's own, reaching what it needs through links that can be cut
    And the language model answers "Refunds take five business days." when asked about "refund"
    When the link from the gateway service to NATS is cut
    And a client asks the gateway service "How long does a refund take?"
    And a client asks the gateway service "How long does a refund take?"
    Then the gateway service answered "Refunds take five business days." from the model
    And the language model was asked 2 times
    When a client asks the gateway service for the tenant's cache statistics
    Then the service answers 503 with the error code "DEPENDENCY_UNAVAILABLE" naming "nats"

@telemetry @gateway @services @scripted
Feature: The gateway's traces and metrics
  Every request to the gateway service is one trace, from the client's call to the language model,
  and every span of it names the tenant. The call to the model carries the OpenTelemetry GenAI
  attributes with the tokens the model reported, and the gateway counts calls, cache hits and
  misses, tokens, durations and, at the operator's prices, cost per tenant. Prompts and keys stay off the spans.

  Scenario: A completion request is one trace, from the client to the language model
    Given the language model answers "Refunds take five business days." when asked about "refund"
    When a client asks the gateway service "How long does a refund take?"
    Then the request's trace passes through:
      | gateway | gateway generation | language model |
    And the request's trace records a "chat" call to the primary model with the tokens it reported
    And the span "gateway.generate" records the model "chat" and the tenant
    And every span of the request's trace carries the tenant

  Scenario: The gateway counts the tokens the model reported, the call and its duration, for the tenant
    When a client asks the gateway service "How many business days does a refund to a credit card take?"
    Then the gateway's token counter for the tenant grew by the tokens the model reported
    And the gateway's call counter for the tenant grew by 1
    And the platform recorded how long the gateway request took for the tenant

  @deploys
  Scenario: The gateway prices each call at the operator's rates, for the tenant and the model
    Given the gateway service charges 2.5 per million input tokens and 10 per million output tokens for the chat model
    When a client asks the gateway service "How many business days does a refund to a credit card take?"
    Then the gateway's cost for the tenant grew by the price of the tokens the model reported

  Scenario: A cache miss and then a cache hit show in the traces and the counters
    When a client asks the gateway service "What is the capital of France?"
    Then the gateway's cache check in the request's trace was a miss
    And the gateway's cache miss counter for the tenant grew by 1
    When a client asks the gateway service "What is the capital of France?"
    Then the gateway's cache check in the request's trace was a hit
    And the request's trace does not reach the language model
    And the gateway's cache hit counter for the tenant grew by 1

  @security @deploys
  Scenario: An operator who opts in sees the prompt and the answer on the model call, as the GenAI conventions allow
    Given the operator lets the platform record prompts and answers on its spans
    And the language model answers "The quokka sleeps in QUOKKA-BURROW-58." when asked about "quokka"
    When a client asks the gateway service "Where does the quokka QUOKKA-PROMPT-12 sleep?"
    Then the model call in the request's trace records the prompt "QUOKKA-PROMPT-12" and the answer "QUOKKA-BURROW-58"

  @security
  Scenario: Neither the prompt nor the API key appears on any span
    When a client asks the gateway service "My card 4111 1111 1111 1111 was declined, why?"
    Then no span of the request's trace mentions "4111 1111 1111 1111"
    And no span of the request's trace carries the platform's API key

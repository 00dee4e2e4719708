@services @gateway @scripted
Feature: The gateway answers repeated requests from its cache
  An identical request for the same tenant and model is answered from a cache that every gateway
  instance shares, without asking the language model again. Tenants never share entries, an entry
  expires after its time to live, a streamed answer always comes from the model, and each tenant
  can read its own hit and miss counts.

  Scenario: An identical request is answered from the cache, without asking the model
    Given the language model answers "Refunds take five business days." when asked about "refund"
    When a client asks the gateway service "How long does a refund take?"
    And a client asks the gateway service "How long does a refund take?"
    Then the gateway service answered "Refunds take five business days." from its cache
    And the language model was asked 1 times
    And the tenant's cache statistics show 1 hits, 1 misses and 1 entries
    And the token usage in the response is what the language model reported

  Scenario: An answer served from the cache says what the first one said: the model, where it ended, the tokens
    Given the language model answers "Refunds take five business days, and sometimes seven." when asked about "refund"
    When a client asks the gateway service "How long does a refund take?" with at most 4 tokens
    And a client asks the gateway service "How long does a refund take?" with at most 4 tokens
    Then the gateway service answered "Refunds take five business" from its cache
    And the gateway service's answer came from the primary model and ended because of "length"
    And the token usage in the response is what the language model reported

  Scenario: A different question is not answered from the cache
    When a client asks the gateway service "How long does a refund take?"
    And a client asks the gateway service "How long does a refund of an annual plan take?"
    Then the gateway service did not answer from its cache
    And the language model was asked 2 times

  Scenario Outline: A request that differs only in its <difference> is not answered from the cache
    When a client asks the gateway service "How long does a refund take?" with <first>
    And a client asks the gateway service "How long does a refund take?" with <second>
    Then the gateway service did not answer from its cache
    And the language model was asked 2 times

    Examples:
      | difference       | first                | second                  |
      | model            | the model "chat"     | the model "chat-backup" |
      | temperature      | a temperature of 0.2 | a temperature of 0.9    |
      | nucleus sampling | a top_p of 0.5       | a top_p of 0.9          |
      | length limit     | at most 50 tokens    | at most 7 tokens        |
      | stop word        | the stop word "END"  | the stop word "STOP"    |

  Scenario: A conversation that differs only in its instruction is not answered from the cache
    When a client asks the gateway service "How long does a refund take?" under the instruction "Answer in English."
    And a client asks the gateway service "How long does a refund take?" under the instruction "Answer in French."
    Then the gateway service did not answer from its cache
    And the language model was asked 2 times

  Scenario: The same request with the same options is answered from the cache
    When a client asks the gateway service "How long does a refund take?" with a temperature of 0.2 and at most 50 tokens
    And a client asks the gateway service "How long does a refund take?" with a temperature of 0.2 and at most 50 tokens
    Then the gateway service answered "I am the scripted language model." from its cache
    And the language model was asked 1 times

  @security
  Scenario: Tenants never share cache entries
    When a client of the tenant "acme" asks the gateway service "What is our refund policy?"
    And a client of the tenant "globex" asks the gateway service "What is our refund policy?"
    Then the gateway service did not answer from its cache
    And the language model was asked 2 times
    And the cache statistics of the tenant "globex" show 0 hits, 1 misses and 1 entries

  @deploys
  Scenario: Every gateway instance answers from the same cache
    When a client asks the gateway service "What is the capital of France?"
    And a client asks a second instance of the gateway service "What is the capital of France?"
    Then the gateway service answered "I am the scripted language model." from its cache
    And the language model was asked 1 times

  @slow @deploys
  Scenario: A cached answer expires after its time to live
    Given the gateway service keeps cached answers for 1 second
    When a client asks the gateway service "What is the capital of France?"
    And the tenant's cached answers have expired, within 5 seconds
    And a client asks the gateway service "What is the capital of France?"
    Then the gateway service did not answer from its cache
    And the language model was asked 2 times

  @deploys
  Scenario: A gateway deployed without the message bus has no cache: each request asks the model, and nothing is counted
    Given the gateway service is deployed without the message bus
    And the language model answers "The office opens at 8 am on weekdays." when asked about "office open"
    When a client asks the gateway service "When does the office open?"
    And a client asks the gateway service "When does the office open?"
    Then the gateway service answered "The office opens at 8 am on weekdays." from the model
    And the language model was asked 2 times
    And the tenant's cache statistics show 0 hits, 0 misses and 0 entries

  Scenario: A streamed answer always comes from the model, and is not counted
    When a client streams the gateway service's answer to "Tell me a story about refunds."
    And a client streams the gateway service's answer to "Tell me a story about refunds."
    Then the language model was asked 2 times
    And the tenant's cache statistics show 0 hits, 0 misses and 0 entries

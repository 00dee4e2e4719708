@nats @gateway @scripted @own-workers
Feature: Timeout handling over NATS
  A caller never hangs: with nobody listening it fails at once, with a slow worker it fails
  after its own timeout, and a late reply is dropped quietly without disturbing later requests.
  These scenarios start their own instances of the platform's services, each its own process, on a
  NATS server of their own where no other service listens.

  Scenario: No gateway worker is listening: the caller fails at once
    Given an instance of the RAG service takes documents from the message bus
    When the API asks over the message bus for a completion of "Hello?" with a timeout of 5 seconds
    Then the request fails because no worker is available
    And the caller did not wait for its timeout

  Scenario: The worker is slower than the caller's timeout
    Given an instance of the gateway service listens for completion requests
    And the primary model takes 2 seconds to answer
    When the API asks over the message bus for a completion of "Hello?" with a timeout of 0.5 seconds
    Then the request fails with a timeout after about 0.5 seconds
    And once the worker has sent its late reply, no component reports an error

  Scenario: A timeout in one request does not disturb the next request
    Given an instance of the gateway service listens for completion requests
    And the primary model takes 2 seconds to answer once
    And the language model answers "Fine again." when asked about "second"
    When the API asks over the message bus for a completion of "first question" with a timeout of 0.5 seconds
    And the API asks over the message bus for a completion of "second question" with a timeout of 1 seconds
    Then the reply over the message bus says "Fine again."

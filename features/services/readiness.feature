@services
Feature: Every service says whether it can serve, naming each dependency it needs
  A load balancer asks GET /health whether a service's process is up and GET /ready whether
  everything it needs answers: the model provider and NATS for the gateway; the database, the
  gateway service and NATS for RAG; the database, the gateway and RAG services and NATS for the
  agent service; the RAG and agent services for the query API. Ready, it lists what it checked;
  not ready, it answers 503 naming each dependency that is gone, and turns ready again by itself
  once the dependency is back.

  Scenario Outline: The <service> service answers its probes, and says what it checked
    When the operator probes the <service> service's health and readiness with the correlation id "probe-<service>-7"
    Then both probes answer 200 with the request and correlation ids they were sent
    And the readiness answer says it checked <needs>

    Examples:
      | service | needs                                                     |
      | gateway | the model provider and NATS                               |
      | RAG     | the database, the gateway service and NATS                |
      | agent   | the database, the gateway service, the RAG service and NATS |
      | query   | the RAG service and the agent service                     |

  @own-workers @chaos @slow
  Scenario Outline: The <service> service is not ready while <dependency> is gone, and ready again once it is back
    Given an instance of the <service> service of the scenario's own, reaching what it needs through links that can be cut
    When the link from the <service> service to <dependency> is cut
    Then the <service> service's readiness check answers 503 naming <dependency> alone
    When the link from the <service> service to <dependency> is restored
    Then the <service> service's readiness check answers 200 again within 10 seconds

    Examples:
      | service | dependency          |
      | gateway | the model provider  |
      | gateway | NATS                |
      | RAG     | the database        |
      | RAG     | the gateway service |
      | RAG     | NATS                |
      | agent   | the database        |
      | agent   | the gateway service |
      | agent   | the RAG service     |
      | agent   | NATS                |
      | query   | the RAG service     |
      | query   | the agent service   |

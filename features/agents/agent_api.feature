@agents @services
Feature: Defining agents and talking to them through the agent API
  A tenant defines its agents over HTTP: a name and the tools each may use. An agent defined by
  its name alone gets an id made from that name, cut to the 64 characters an id may have;
  defining an agent again under its id replaces it, and the answer says which of the two
  happened. A chat that names no conversation starts a new one, named in the reply, and a task
  given without a priority runs at the contract's default, 0.

  Scenario Outline: An agent defined by its name alone gets an id made from that name: <name>
    When the tenant defines an agent named "<name>" through the agent API
    Then the agent API says it created the agent "<agent id>"
    And the agent API lists only the agent "<agent id>" for the tenant

    Examples: lower case, dashes for the rest, at most 64 characters as every id
      | name                                                                        | agent id                                                         |
      | Billing Desk 2!                                                             | billing-desk-2                                                   |
      | Customer Support Desk for the Northern Region and All of Its Branch Offices | customer-support-desk-for-the-northern-region-and-all-of-its-bra |

  Scenario: Defining an agent again under its id replaces it, and says so
    Given the tenant has an agent "helpdesk" with the knowledge base search tool, through the agent API
    When the tenant defines the agent "helpdesk" again as "Front Desk" with no tools, through the agent API
    Then the agent API says it replaced the agent "helpdesk"
    And the agent API describes the agent "helpdesk" as "Front Desk", with no tools
    And the agent API lists only the agent "helpdesk" for the tenant

  Scenario: A chat that names no conversation starts a new one, and the agent remembers it by the name it gave
    Given the tenant has an agent "helpdesk" with the knowledge base search tool, through the agent API
    When the user tells the agent "helpdesk" "My locker is number 42." without naming a conversation, through the agent API
    And the user tells the agent "helpdesk" "I park on level two." without naming a conversation, through the agent API
    Then the two replies name two new conversations, each of its own
    When the user asks the agent "helpdesk" "Which locker was it?" in the conversation the first reply named, through the agent API
    Then the prompt sent to the language model contains "My locker is number 42."
    And the prompt sent to the language model does not contain "I park on level two."

  Scenario: A task given without a priority runs at the default priority, 0
    Given the tenant has an agent "helpdesk" with the knowledge base search tool, through the agent API
    When the tenant gives the agent "helpdesk" the task of answering "Can I get a refund?" without a priority, through the agent API
    Then the agent API reports the answering task completed at priority 0, under a task id of its own

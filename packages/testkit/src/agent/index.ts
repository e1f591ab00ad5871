export {
  type CloseInfo,
  DEFAULT_TEST_AGENT_CAPABILITIES,
  TestAgent,
  type TestAgentOptions,
  UpgradeRejectedError,
} from './test-agent.js';

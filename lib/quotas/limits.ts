/**
 * The documented limits that CloudFormation only reports at deploy time, each with its source. A
 * quota marked `adjustable` can be raised with Service Quotas; a deployment that has raised one says
 * so with the CDK context `buildwatch:quotas` (`{"eventbridge.event-pattern-chars": 4096}`), and
 * the check uses that value instead.
 */
export interface Quota {
  readonly id: string;
  readonly title: string;
  readonly limit: number;
  readonly unit: 'bytes' | 'characters' | 'statements' | 'conditions' | 'actions' | 'principals' | 'targets' | 'entries' | 'resources' | 'rules' | 'keys' | 'combinations' | 'policies';
  /** Where the number comes from. */
  readonly source: string;
  readonly adjustable?: boolean;
  /** Reported as a warning (synth goes on), for quotas the account shares with things outside the stack. */
  readonly warning?: boolean;
}

const q = <const T extends Record<string, Quota>>(quotas: T): T => quotas;

export const QUOTAS = q({
  // SQS developer guide, "Amazon SQS policy quotas". How SQS counts conditions is not documented:
  // counted strictly here, every value of every condition key in the policy.
  sqsPolicyBytes: { id: 'sqs.policy-bytes', title: 'SQS queue policy size', limit: 8_192, unit: 'bytes', source: 'SQS developer guide, Amazon SQS policy quotas' },
  sqsPolicyStatements: { id: 'sqs.policy-statements', title: 'statements in an SQS queue policy', limit: 20, unit: 'statements', source: 'SQS developer guide, Amazon SQS policy quotas' },
  sqsPolicyActions: { id: 'sqs.policy-actions-per-statement', title: 'actions in one statement of an SQS queue policy', limit: 7, unit: 'actions', source: 'SQS developer guide, Amazon SQS policy quotas' },
  sqsPolicyConditions: { id: 'sqs.policy-conditions', title: 'conditions in an SQS queue policy', limit: 10, unit: 'conditions', source: 'SQS developer guide, Amazon SQS policy quotas' },
  sqsPolicyPrincipals: { id: 'sqs.policy-principals', title: 'principals in an SQS queue policy', limit: 50, unit: 'principals', source: 'SQS developer guide, Amazon SQS policy quotas' },
  // SNS developer guide, "Amazon SNS API permissions: Actions and resources reference", Policy quotas.
  snsPolicyBytes: { id: 'sns.policy-bytes', title: 'SNS topic policy size', limit: 30 * 1024, unit: 'bytes', source: 'SNS developer guide, policy quotas' },
  snsPolicyStatements: { id: 'sns.policy-statements', title: 'statements in an SNS topic policy', limit: 100, unit: 'statements', source: 'SNS developer guide, policy quotas' },
  snsPolicyPrincipals: { id: 'sns.policy-principals', title: 'principals in an SNS topic policy', limit: 200, unit: 'principals', source: 'SNS developer guide, policy quotas' },
  // SNS developer guide, "Subscription filter policy constraints".
  snsFilterKeys: { id: 'sns.filter-policy-keys', title: 'attribute names in one level of a subscription filter policy', limit: 5, unit: 'keys', source: 'SNS developer guide, filter policy constraints' },
  snsFilterCombinations: { id: 'sns.filter-policy-combinations', title: 'value combinations of a subscription filter policy', limit: 150, unit: 'combinations', source: 'SNS developer guide, filter policy constraints' },
  // Lambda developer guide, "Lambda quotas".
  lambdaPolicyBytes: { id: 'lambda.resource-policy-bytes', title: "a function's resource-based policy size", limit: 20 * 1024, unit: 'bytes', source: 'Lambda developer guide, Lambda quotas' },
  lambdaEnvironmentBytes: { id: 'lambda.environment-bytes', title: "a function's environment variables, in aggregate", limit: 4 * 1024, unit: 'bytes', source: 'Lambda developer guide, Lambda quotas (measured as the JSON Lambda reports)' },
  // IAM user guide, "IAM and AWS STS quotas" (IAM does not count white space).
  iamRoleInlineChars: { id: 'iam.role-inline-policies-chars', title: "a role's inline policies, in aggregate", limit: 10_240, unit: 'characters', source: 'IAM user guide, IAM and AWS STS quotas' },
  iamManagedPolicyChars: { id: 'iam.managed-policy-chars', title: 'managed policy size', limit: 6_144, unit: 'characters', source: 'IAM user guide, IAM and AWS STS quotas' },
  iamTrustPolicyChars: { id: 'iam.role-trust-policy-chars', title: 'role trust policy size', limit: 2_048, unit: 'characters', adjustable: true, source: 'IAM user guide, IAM and AWS STS quotas (adjustable to 4,096)' },
  iamManagedPoliciesPerRole: { id: 'iam.managed-policies-per-role', title: 'managed policies attached to one role', limit: 10, unit: 'policies', adjustable: true, source: 'IAM user guide, IAM and AWS STS quotas (adjustable to 20)' },
  // KMS developer guide, "Resource quotas": key policy document size.
  kmsKeyPolicyBytes: { id: 'kms.key-policy-bytes', title: 'KMS key policy size', limit: 32 * 1024, unit: 'bytes', source: 'KMS developer guide, resource quotas' },
  // EventBridge user guide, "Amazon EventBridge quotas"; PutTargets API reference for targets and inputs.
  eventPatternChars: { id: 'eventbridge.event-pattern-chars', title: 'event pattern size', limit: 2_048, unit: 'characters', adjustable: true, source: 'EventBridge user guide, EventBridge quotas' },
  eventTargetsPerRule: { id: 'eventbridge.targets-per-rule', title: 'targets of one rule', limit: 5, unit: 'targets', source: 'EventBridge user guide, EventBridge quotas' },
  eventInputChars: { id: 'eventbridge.target-input-chars', title: "a target's Input or InputTemplate", limit: 8_192, unit: 'characters', source: 'EventBridge API reference, PutTargets (InputTransformer.InputTemplate, Input)' },
  eventInputPaths: { id: 'eventbridge.input-paths', title: "entries of a target's InputPathsMap", limit: 100, unit: 'entries', source: 'EventBridge API reference, PutTargets (InputTransformer.InputPathsMap)' },
  eventBusPolicyChars: { id: 'eventbridge.bus-policy-chars', title: 'event bus policy size', limit: 10_240, unit: 'characters', adjustable: true, source: 'EventBridge user guide, EventBridge quotas' },
  // The quota is per bus for the whole account: warn when this stack alone takes half of the default.
  eventRulesPerBus: { id: 'eventbridge.rules-per-bus', title: "rules on one event bus (this stack's share of the account's default quota of 300)", limit: 150, unit: 'rules', adjustable: true, warning: true, source: 'EventBridge user guide, EventBridge quotas (300 rules per bus by default)' },
  // CloudFormation user guide, "CloudFormation quotas".
  templateResources: { id: 'cloudformation.resources', title: 'resources in a template', limit: 500, unit: 'resources', source: 'CloudFormation user guide, CloudFormation quotas' },
  templateOutputs: { id: 'cloudformation.outputs', title: 'outputs in a template', limit: 200, unit: 'entries', source: 'CloudFormation user guide, CloudFormation quotas' },
  templateParameters: { id: 'cloudformation.parameters', title: 'parameters in a template', limit: 200, unit: 'entries', source: 'CloudFormation user guide, CloudFormation quotas' },
  templateMappings: { id: 'cloudformation.mappings', title: 'mappings in a template', limit: 200, unit: 'entries', source: 'CloudFormation user guide, CloudFormation quotas' },
  templateBytes: { id: 'cloudformation.template-bytes', title: 'template size (uploaded to S3 by cdk deploy)', limit: 1_048_576, unit: 'bytes', source: 'CloudFormation user guide, CloudFormation quotas (template body in S3: 1 MB)' },
  // A StackSet's template travels inline in the parent template (TemplateBody), not through S3.
  stackSetTemplateBodyBytes: { id: 'cloudformation.stackset-template-body-bytes', title: "a StackSet's TemplateBody", limit: 51_200, unit: 'bytes', source: 'CloudFormation API reference, CreateStackSet (TemplateBody: maximum length 51,200)' },
  templateDescriptionBytes: { id: 'cloudformation.description-bytes', title: 'template description', limit: 1_024, unit: 'bytes', source: 'CloudFormation user guide, template format (Description)' },
});

export type QuotaName = keyof typeof QUOTAS;

/** Physical-name rules the stack's named resources must follow, from each resource type's API reference. */
export interface NameRule {
  readonly property: string;
  readonly maxLength: number;
  readonly minLength?: number;
  readonly pattern: RegExp;
  readonly source: string;
}

export const NAME_RULES: Readonly<Record<string, readonly NameRule[]>> = {
  'AWS::SQS::Queue': [{ property: 'QueueName', maxLength: 80, pattern: /^[A-Za-z0-9_-]+(\.fifo)?$/, source: 'SQS API reference, CreateQueue (QueueName)' }],
  'AWS::SNS::Topic': [
    { property: 'TopicName', maxLength: 256, pattern: /^[A-Za-z0-9_-]+(\.fifo)?$/, source: 'SNS API reference, CreateTopic (Name)' },
    { property: 'DisplayName', maxLength: 100, pattern: /^[\s\S]*$/, source: 'SNS API reference, SetTopicAttributes (DisplayName)' },
  ],
  'AWS::Lambda::Function': [
    { property: 'FunctionName', maxLength: 64, pattern: /^[A-Za-z0-9_-]+$/, source: 'Lambda API reference, CreateFunction (FunctionName)' },
    { property: 'Description', maxLength: 256, pattern: /^[\s\S]*$/, source: 'Lambda API reference, CreateFunction (Description)' },
  ],
  'AWS::DynamoDB::Table': [{ property: 'TableName', minLength: 3, maxLength: 255, pattern: /^[A-Za-z0-9_.-]+$/, source: 'DynamoDB API reference, CreateTable (TableName)' }],
  'AWS::Events::Rule': [
    { property: 'Name', maxLength: 64, pattern: /^[.\-_A-Za-z0-9]+$/, source: 'EventBridge API reference, PutRule (Name)' },
    { property: 'Description', maxLength: 512, pattern: /^[\s\S]*$/, source: 'EventBridge API reference, PutRule (Description)' },
  ],
  'AWS::Events::EventBus': [{ property: 'Name', maxLength: 256, pattern: /^[/.\-_A-Za-z0-9]+$/, source: 'EventBridge API reference, CreateEventBus (Name)' }],
  'AWS::IAM::Role': [
    { property: 'RoleName', maxLength: 64, pattern: /^[\w+=,.@-]+$/, source: 'IAM API reference, CreateRole (RoleName)' },
    { property: 'Path', maxLength: 512, pattern: /^\/([\x21-\x7e]*\/)?$/, source: 'IAM API reference, CreateRole (Path)' },
  ],
  'AWS::IAM::ManagedPolicy': [{ property: 'ManagedPolicyName', maxLength: 128, pattern: /^[\w+=,.@-]+$/, source: 'IAM API reference, CreatePolicy (PolicyName)' }],
  'AWS::IAM::Policy': [{ property: 'PolicyName', maxLength: 128, pattern: /^[\w+=,.@-]+$/, source: 'IAM API reference, PutRolePolicy (PolicyName)' }],
  'AWS::KMS::Alias': [{ property: 'AliasName', maxLength: 256, pattern: /^alias\/(?!aws\/)[A-Za-z0-9/_-]+$/, source: 'KMS API reference, CreateAlias (AliasName)' }],
  'AWS::Logs::LogGroup': [{ property: 'LogGroupName', maxLength: 512, pattern: /^[.\-_/#A-Za-z0-9]+$/, source: 'CloudWatch Logs API reference, CreateLogGroup (logGroupName)' }],
  'AWS::CloudWatch::Alarm': [
    { property: 'AlarmName', maxLength: 255, pattern: /^[\s\S]+$/, source: 'CloudWatch API reference, PutMetricAlarm (AlarmName)' },
    { property: 'AlarmDescription', maxLength: 1_024, pattern: /^[\s\S]*$/, source: 'CloudWatch API reference, PutMetricAlarm (AlarmDescription)' },
  ],
  'AWS::Scheduler::Schedule': [
    { property: 'Name', maxLength: 64, pattern: /^[0-9a-zA-Z-_.]+$/, source: 'EventBridge Scheduler API reference, CreateSchedule (Name)' },
    { property: 'Description', maxLength: 512, pattern: /^[\s\S]*$/, source: 'EventBridge Scheduler API reference, CreateSchedule (Description)' },
  ],
  'AWS::CloudFormation::StackSet': [
    { property: 'StackSetName', maxLength: 128, pattern: /^[a-zA-Z][-a-zA-Z0-9]*$/, source: 'CloudFormation API reference, CreateStackSet (StackSetName)' },
    { property: 'Description', maxLength: 1_024, pattern: /^[\s\S]*$/, source: 'CloudFormation API reference, CreateStackSet (Description)' },
  ],
  'AWS::Chatbot::SlackChannelConfiguration': [{ property: 'ConfigurationName', maxLength: 128, pattern: /^[A-Za-z0-9-_]+$/, source: 'AWS Chatbot API reference, CreateSlackChannelConfiguration (ConfigurationName)' }],
  'AWS::Chatbot::MicrosoftTeamsChannelConfiguration': [{ property: 'ConfigurationName', maxLength: 128, pattern: /^[A-Za-z0-9-_]+$/, source: 'AWS Chatbot API reference, CreateMicrosoftTeamsChannelConfiguration (ConfigurationName)' }],
};

/**
 * The length CloudFormation gives a name it generates (`<stack>-<logicalId>-<13 random>`, cut to the
 * service's maximum), for resources the stack leaves unnamed.
 */
export const GENERATED_NAME_MAX: Readonly<Record<string, number>> = {
  'AWS::SQS::Queue': 80,
  'AWS::SNS::Topic': 256,
  'AWS::Lambda::Function': 64,
  'AWS::DynamoDB::Table': 255,
  'AWS::Events::Rule': 64,
  'AWS::IAM::Role': 64,
  'AWS::IAM::ManagedPolicy': 128,
  'AWS::Logs::LogGroup': 512,
  'AWS::CloudWatch::Alarm': 255,
  'AWS::Scheduler::Schedule': 64,
};

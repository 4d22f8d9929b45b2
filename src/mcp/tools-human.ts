/**
 * Tools that ask a person: recorded in human_requests with the agent run that asked. Agents run
 * unattended, so no answer arrives within the session; the replies say so, and what to do now.
 */
import { z } from 'zod';
import { createHumanRequest } from '../db/human-requests.ts';
import { WRITES, defineTool } from './context.ts';
import { featureIdSchema, humanFieldsSchema, questionSchema } from './schemas.ts';

export const humanTools = [
  defineTool(
    'feature_request_human_input',
    {
      description:
        'Ask a person for input a feature cannot go on without: API keys or accounts to create, credentials, a choice only ' +
        'the owner can make, an external service to configure. NOT for problems you can solve yourself (debugging, reading ' +
        'docs). The request is recorded for the operator; end your work on this feature afterwards.',
      input: {
        feature_id: featureIdSchema('The ID of the feature that needs human input'),
        prompt: z
          .string({ error: 'prompt must be a string' })
          .min(1, { error: 'prompt must not be empty' })
          .describe('What you need from the person, and why'),
        fields: humanFieldsSchema,
      },
      annotations: WRITES,
    },
    async ({ feature_id, prompt, fields }, ctx) => {
      const request = await createHumanRequest(ctx.db, {
        projectId: ctx.scope.projectId,
        featureId: feature_id,
        runId: ctx.scope.actor,
        kind: 'feature',
        question: prompt,
        options: fields,
      });
      return {
        success: true,
        feature_id,
        request_id: request.id,
        message:
          `Request #${request.id} recorded: feature #${feature_id} now needs human input. No answer arrives during this ` +
          'session; stop working on this feature. A later attempt gets the answer.',
      };
    },
  ),

  defineTool(
    'ask_user',
    {
      description:
        'Ask the user structured questions, each with a short header and 2-4 options. Recorded for the operator; this run is ' +
        'unattended, so continue with the most reasonable option and say which one you chose and why.',
      input: {
        questions: z
          .array(questionSchema, { error: 'questions must be a list of questions' })
          .min(1, { error: 'questions must list at least one question' })
          .describe('Questions, each with question, header, options [{label, description}] and multiSelect'),
      },
      annotations: WRITES,
    },
    async ({ questions }, ctx) => {
      const request = await createHumanRequest(ctx.db, {
        projectId: ctx.scope.projectId,
        featureId: ctx.scope.featureId,
        runId: ctx.scope.actor,
        kind: 'ask',
        question: questions.map((q) => q.question).join('\n'),
        options: questions,
      });
      return {
        success: true,
        request_id: request.id,
        message:
          `Questions recorded as request #${request.id} for the operator. This run is unattended: no answer will arrive ` +
          'in this session. Continue with the most reasonable option and state the assumption you made.',
      };
    },
  ),
];

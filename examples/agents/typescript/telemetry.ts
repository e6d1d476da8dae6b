/**
 * OpenTelemetry for the example agent, following the GenAI semantic conventions: one
 * `invoke_agent <name>` span per step and an `execute_tool <tool>` span per MCP tool call under it
 * (gen_ai.operation.name, gen_ai.agent.id, gen_ai.agent.name, gen_ai.conversation.id,
 * gen_ai.tool.name, gen_ai.tool.call.id, gen_ai.tool.type). Exported over OTLP/HTTP protobuf only
 * when OTEL_EXPORTER_OTLP_ENDPOINT is set (the exporter reads it, and OTEL_EXPORTER_OTLP_HEADERS);
 * otherwise the API's no-op tracer records nothing.
 */
import { trace, type Tracer } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, NodeTracerProvider } from '@opentelemetry/sdk-trace-node';

export interface Telemetry {
  tracer: Tracer;
  /** Flushes and stops the exporter (the agent calls it before it exits). */
  shutdown(): Promise<void>;
}

export function startTelemetry(agentName: string): Telemetry {
  if (!process.env.OTEL_EXPORTER_OTLP_ENDPOINT)
    return { tracer: trace.getTracer('firebreak-example-agent'), shutdown: async () => undefined };
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ 'service.name': process.env.OTEL_SERVICE_NAME ?? agentName }),
    spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter(), { scheduledDelayMillis: 500 })],
  });
  return {
    tracer: provider.getTracer('firebreak-example-agent'),
    shutdown: () => provider.shutdown(),
  };
}

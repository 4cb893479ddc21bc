import * as grpc from '@grpc/grpc-js';
import { context, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import type { Logger } from 'pino';
import type { CallContext } from '../app/call-context';
import type { ServiceMetrics } from '../telemetry/metrics';
import { readActor, readCorrelationId } from './call-metadata';
import { CallSignal } from './call-signal';
import { decoded } from './deferred-decoding';
import { fallbackStatusError, isExpectedError, toStatusError } from './error-status';
import { chain, Interceptor, RpcCall, RpcResult } from './interceptors/interceptor';
import { RpcCallContext } from './rpc-call-context';

/** A use-case call behind one RPC. Mutations honour `idempotency-key`; queries ignore it. */
export interface RpcHandler<Req, Res> {
  kind: 'query' | 'mutation';
  /**
   * The use case's whole effect is one final statement that stores the response (no provider call, nothing
   * committed before): a keyed call then claims its key in that statement instead of a round trip ahead of it.
   */
  claimsKeyAtCommit?: boolean;
  run(request: Req, ctx: CallContext): Promise<Res>;
}

export const query = <Req, Res>(run: RpcHandler<Req, Res>['run']): RpcHandler<Req, Res> => ({ kind: 'query', run });

/**
 * A mutation in two parts: `run` calls the use case and answers its domain result; `respond` maps that result to the
 * response, with no I/O. The split lets the use case's final transaction store the response it commits with (see
 * CallCompletion), so a retry after a crash replays exactly what the first attempt would have answered.
 */
export const mutation = <Req, Result, Res>(
  run: (request: Req, ctx: CallContext) => Promise<Result>,
  respond: (result: Result) => Res,
  options: { claimsKeyAtCommit?: boolean } = {},
): RpcHandler<Req, Res> => ({
  kind: 'mutation',
  claimsKeyAtCommit: options.claimsKeyAtCommit,
  async run(request, ctx) {
    ctx.completion?.respondWith((result) => respond(result as Result));
    return respond(await run(request, ctx));
  },
});

export interface RpcDeps {
  /** Run in order around every RPC's handler (see grpc/interceptors/). */
  interceptors: readonly Interceptor[];
  logger: Logger;
  metrics: ServiceMetrics;
}

/** Handlers keyed like the generated service definition (`createCustomer`, ...): every RPC has one. */
export type Handlers<S> = { [K in keyof S]: RpcHandler<any, any> }; // eslint-disable-line @typescript-eslint/no-explicit-any

type Method = grpc.MethodDefinition<any, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const tracer = trace.getTracer('billing-adapter/grpc');

/** Every RPC of a service through one wrapper; `Handlers<S>` makes the compiler prove each RPC is served. */
export function bindService<S extends grpc.ServiceDefinition>(
  definition: S,
  handlers: Handlers<S>,
  deps: RpcDeps,
): grpc.UntypedServiceImplementation {
  const implementation: grpc.UntypedServiceImplementation = {};
  for (const [name, method] of Object.entries(definition) as [string, Method][]) {
    implementation[name] = wrapUnary(method, handlers[name as keyof S], deps);
  }
  return implementation;
}

/** Builds the call context (correlation, deadline, trace), runs the interceptors and the handler, maps errors to status. */
function wrapUnary(
  method: Method,
  handler: RpcHandler<unknown, unknown>,
  deps: RpcDeps,
): grpc.handleUnaryCall<unknown, unknown> {
  const name = method.path.slice(1);
  const [service = '', rpc = ''] = name.split('/');
  return (call, callback) => {
    const started = process.hrtime.bigint();
    const carrier = {
      traceparent: String(call.metadata.get('traceparent')[0] ?? ''),
      tracestate: String(call.metadata.get('tracestate')[0] ?? ''),
    };
    const parent = propagation.extract(ROOT_CONTEXT, carrier);
    const span = tracer.startSpan(
      name,
      { kind: SpanKind.SERVER, attributes: { 'rpc.system': 'grpc', 'rpc.service': service, 'rpc.method': rpc } },
      parent,
    );
    const traceId = span.spanContext().traceId;
    const correlationId = readCorrelationId(call.metadata, /^0+$/.test(traceId) ? undefined : traceId);
    const callSignal = new CallSignal(call);
    const ctx = new RpcCallContext(readActor(call.metadata), correlationId, callSignal);

    const finish = (code: grpc.status) => {
      callSignal.settle();
      span.setAttribute('rpc.grpc.status_code', code);
      if (code !== grpc.status.OK) span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      deps.metrics.rpcDuration.observe({ method: name, code: grpc.status[code] }, seconds);
    };

    const rpcCall: RpcCall = {
      path: name,
      service,
      rpc,
      kind: handler.kind,
      claimsKeyAtCommit: handler.claimsKeyAtCommit === true,
      request: call.request,
      metadata: call.metadata,
      ctx,
      requestBytes: () => method.requestSerialize(rpcCall.request),
      encodeResponse: (response) => method.responseSerialize(response),
      decodeResponse: (bytes) => method.responseDeserialize(Buffer.from(bytes)),
    };

    const refuse = (error: unknown) => {
      const statusError = toStatusError(error, correlationId);
      callback(statusError);
      finish(statusError.code);
      // Logged after answering, so a failing logger cannot turn a refusal into INTERNAL or leave the call hanging.
      attempt(() => {
        if (!isExpectedError(error))
          deps.logger.error({ err: error, method: name, correlation_id: correlationId }, 'unexpected error');
        else
          deps.logger.debug(
            { method: name, code: grpc.status[statusError.code], details: statusError.details },
            'rpc refused',
          );
      });
    };

    const answer = (result: RpcResult) => {
      try {
        const trailer = new grpc.Metadata();
        trailer.set('correlation-id', correlationId);
        for (const [key, value] of Object.entries(result.trailers ?? {})) trailer.set(key, value);
        callback(null, result.response, trailer);
        finish(grpc.status.OK);
      } catch (error) {
        refuse(error);
      }
    };
    // Decoded here if no interceptor did (decodeRequest decodes after authentication).
    const handle = () => handler.run(decoded(rpcCall.request, rpc), ctx).then(asResult);

    // Callbacks on the chain's promise, not an async function awaiting it: each promise of a call also runs the
    // context propagation hooks, and a read answered from memory makes few enough that these showed (see checkOnly).
    const run = (): Promise<void> => {
      let pending: Promise<RpcResult>;
      try {
        pending = chain(deps.interceptors, rpcCall, handle);
      } catch (error) {
        refuse(error);
        return Promise.resolve();
      }
      return pending.then(answer, refuse);
    };

    // The error path itself must not throw: an exception here would be an unhandled rejection that ends the process.
    context.with(trace.setSpan(parent, span), run).catch((error: unknown) => {
      // Answer first: whatever failed (the logger, say) may fail again.
      attempt(() => callback(fallbackStatusError()));
      attempt(() => finish(grpc.status.INTERNAL));
      attempt(() =>
        deps.logger.error({ err: error, method: name, correlation_id: correlationId }, 'rpc error path failed'),
      );
    });
  };
}

const asResult = (response: unknown): RpcResult => ({ response });

/** Runs a last-resort step; a failure here has nowhere left to go (the call is answered or cut by its deadline). */
function attempt(step: () => void): void {
  try {
    step();
  } catch {
    // deliberately ignored: see above
  }
}

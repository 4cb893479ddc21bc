/**
 * Transport baseline: a raw grpc-js server on GetSubscription's RPC path answering every call with the same bytes
 * (the encoded response our service gave for the read path's subscription, from BENCH_CONSTANT_RESPONSE, base64).
 * It decodes the request, as any server must, and does nothing else. Its own process; reports its port over IPC.
 */
import * as grpc from '@grpc/grpc-js';
import { GetSubscriptionRequest, SubscriptionServiceService } from '../../src/gen/billing/v1/subscription';

const response = Buffer.from(process.env.BENCH_CONSTANT_RESPONSE ?? '', 'base64');
const { path } = SubscriptionServiceService.getSubscription;

const server = new grpc.Server();
server.addService(
  {
    getSubscription: {
      path,
      requestStream: false,
      responseStream: false,
      requestSerialize: (request: Buffer) => request,
      requestDeserialize: (bytes: Buffer) => GetSubscriptionRequest.decode(bytes),
      responseSerialize: (bytes: Buffer) => bytes,
      responseDeserialize: (bytes: Buffer) => bytes,
    },
  },
  {
    getSubscription: (_call: grpc.ServerUnaryCall<GetSubscriptionRequest, Buffer>, done: grpc.sendUnaryData<Buffer>) =>
      done(null, response),
  },
);
server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, port) => {
  if (error) throw error;
  process.send!({ ready: { port } });
});
process.on('SIGTERM', () => server.tryShutdown(() => process.exit(0)));

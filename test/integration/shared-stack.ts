// The test file's local stack (and a TCP proxy in front of its AWS twin), started before its tests and
// stopped after them however they end. Apart from consumer-helpers.ts, which loads no test framework.
import test from 'ava';
import { startTestStack, type TestStack } from '../helpers/stack.js';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.js';

export interface SharedStack {
  readonly stack: TestStack;
  /** a TCP proxy in front of the AWS twin (sharedStack({ proxy: true })) */
  readonly proxy: TcpProxy;
}

/** The test file's stack: started before its tests, stopped (proxy first) after them however they end. */
export function sharedStack(opts: { proxy?: boolean } = {}): SharedStack {
  let stack: TestStack | undefined;
  let proxy: TcpProxy | undefined;
  test.before(async () => {
    stack = await startTestStack();
    if (opts.proxy) {
      const u = new URL(stack.awsEndpoint);
      proxy = await startTcpProxy({ host: u.hostname, port: Number(u.port) });
    }
  });
  test.after.always(async () => {
    await proxy?.close();
    await stack?.stop();
  });
  return {
    get stack() {
      if (!stack) throw new Error('the test stack is not started');
      return stack;
    },
    get proxy() {
      if (!proxy) throw new Error('no TCP proxy: use sharedStack({ proxy: true })');
      return proxy;
    },
  };
}

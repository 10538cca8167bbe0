// Response serializers compiled when first used instead of at start-up. Fastify compiles a fast-json-stringify
// function for every status of every route's response schema when it boots (about 630 here, error statuses
// included), which held ~8 MB of heap on an idle server. This factory hands Fastify the very compiler it would use
// by default (fast-json-stringify through @fastify/fast-json-stringify-compiler, resolved from Fastify's own
// install, with the same shared schemas and serializer options), but a route's serializer is compiled at its first
// response, and routes that share a schema object (every route's error statuses) share one compiled function.
// The output is byte for byte what the eager serializer gives; only a broken response schema now fails at its
// first response instead of at start-up.
import { createRequire } from 'node:module';

type Serializer = (data: unknown) => string;
interface RouteDefinition {
  schema?: unknown;
  method: string;
  url: string;
  httpStatus: string;
  contentType?: string;
}
type SerializerCompiler = (route: RouteDefinition) => Serializer;
type SerializerFactory = (externalSchemas?: unknown, options?: unknown) => SerializerCompiler;

const fromFastify = createRequire(import.meta.resolve('fastify'));
const { SerializerSelector } = fromFastify('@fastify/fast-json-stringify-compiler') as {
  SerializerSelector: () => SerializerFactory;
};
const defaultFactory = SerializerSelector();

/** For `Fastify({ schemaController: { compilersFactory: { buildSerializer } } })`. */
export function buildLazySerializer(externalSchemas?: unknown, options?: unknown): SerializerCompiler {
  const compile = defaultFactory(externalSchemas, options);
  // fast-json-stringify's output depends only on the schema (and the shared schemas and options, fixed here).
  const compiled = new WeakMap<object, Serializer>();
  const compileShared = (route: RouteDefinition): Serializer => {
    const key = typeof route.schema === 'object' && route.schema !== null ? route.schema : undefined;
    let fn = key && compiled.get(key);
    if (!fn) {
      fn = compile(route);
      if (key) compiled.set(key, fn);
    }
    return fn;
  };
  return (route) => {
    let serialize: Serializer | undefined;
    return (data) => {
      serialize ??= compileShared(route);
      return serialize(data);
    };
  };
}

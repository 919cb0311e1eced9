/**
 * A restricted reader of Python pickles (protocols 2–5), for the `data.pkl` inside a
 * `torch.save` file. Written here rather than taken from a pickle package because a checkpoint is
 * untrusted input and general unpicklers construct whatever the stream names: this one never
 * calls anything. It understands the container opcodes (dict, list, tuple, OrderedDict), numbers,
 * strings and bytes, the persistent ids torch uses for storages, and the few torch globals that
 * rebuild a tensor or parameter from a storage. Every other global becomes an inert `Opaque`
 * value (its name kept for messages), so metadata such as mmcv's config objects can sit beside
 * the weights without being built.
 *
 * Opcodes and their encodings follow CPython's `Lib/pickletools.py`.
 */

/** A global the reader does not build: its qualified name, and what was applied to it. */
export class Opaque {
  constructor(readonly name: string) {}
  toString(): string {
    return `<${this.name}>`;
  }
}

/** A storage named by a persistent id: ('storage', <torch.XStorage>, key, location, numel). */
export interface StorageRef {
  readonly kind: 'storage';
  /** Storage class, e.g. 'FloatStorage', 'HalfStorage', 'BFloat16Storage'. */
  readonly type: string;
  /** Archive record name under `data/`. */
  readonly key: string;
  readonly location: string;
  /** Elements in the storage. */
  readonly numel: number;
}

/** A tensor as `_rebuild_tensor_v2` describes it: a view of a storage. */
export interface TensorRef {
  readonly kind: 'tensor';
  readonly storage: StorageRef;
  /** In elements. */
  readonly offset: number;
  readonly shape: readonly number[];
  /** In elements. */
  readonly stride: readonly number[];
}

/** What the reader produces. Dicts (and OrderedDicts) are Maps; tuples and lists are arrays. */
export type PickleValue =
  | null
  | boolean
  | number
  | bigint
  | string
  | Uint8Array
  | PickleValue[]
  | Map<PickleValue, PickleValue>
  | Opaque
  | StorageRef
  | TensorRef
  | PickleGlobal;

/** A global the reader knows: a torch storage class, or a function it interprets. */
export class PickleGlobal {
  constructor(readonly name: string) {}
}

/** Why a pickle cannot be read: the offset and what was found. */
export class PickleError extends Error {}

const MARK = Symbol('mark');
type StackItem = PickleValue | typeof MARK;

const TENSOR_REBUILDERS = new Set(['torch._utils._rebuild_tensor_v2', 'torch._utils._rebuild_tensor']);
const PARAMETER_REBUILDERS = new Set(['torch._utils._rebuild_parameter', 'torch._utils._rebuild_parameter_with_state']);
const KNOWN = new Set([
  'collections.OrderedDict',
  'torch._tensor._rebuild_from_type_v2',
  'torch.Tensor',
  'torch.nn.parameter.Parameter',
  ...TENSOR_REBUILDERS,
  ...PARAMETER_REBUILDERS,
]);

/** `torch.FloatStorage` etc. (and torch ≥ 2's `torch.storage.TypedStorage` spelled per dtype). */
const isStorageClass = (name: string) => /^torch\.[A-Za-z0-9]*Storage$/.test(name);

function isTensorRef(v: PickleValue): v is TensorRef {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Map) && !(v instanceof Uint8Array) && (v as TensorRef).kind === 'tensor';
}

function asInt(v: PickleValue, what: string): number {
  if (typeof v === 'number' && Number.isInteger(v)) return v;
  if (typeof v === 'bigint') return Number(v);
  throw new PickleError(`${what}: expected an integer, found ${describe(v)}`);
}

/** A short description of a value for messages. */
export function describe(v: PickleValue | typeof MARK): string {
  if (v === MARK) return 'a MARK';
  if (v === null) return 'None';
  if (Array.isArray(v)) return `a tuple/list of ${v.length}`;
  if (v instanceof Map) return `a dict of ${v.size}`;
  if (v instanceof Uint8Array) return `${v.length} bytes`;
  if (v instanceof Opaque || v instanceof PickleGlobal) return `<${v.name}>`;
  if (typeof v === 'object') return `a ${v.kind}`;
  return JSON.stringify(typeof v === 'bigint' ? String(v) : v);
}

/** Applies a known global to its arguments (REDUCE); unknown callables stay Opaque. */
function apply(fn: PickleValue, args: PickleValue): PickleValue {
  if (fn instanceof Opaque) return new Opaque(`${fn.name}(…)`);
  if (!(fn instanceof PickleGlobal)) throw new PickleError(`REDUCE of ${describe(fn)}, which is not a global`);
  const a = Array.isArray(args) ? args : [];
  if (fn.name === 'collections.OrderedDict') return new Map();
  if (TENSOR_REBUILDERS.has(fn.name)) {
    const [storage, offset, shape, stride] = a;
    if (!storage || typeof storage !== 'object' || (storage as StorageRef).kind !== 'storage') throw new PickleError(`${fn.name}: expected a storage, found ${describe(storage ?? null)}`);
    if (!Array.isArray(shape) || !Array.isArray(stride)) throw new PickleError(`${fn.name}: expected size and stride tuples`);
    return { kind: 'tensor', storage: storage as StorageRef, offset: asInt(offset, 'storage offset'), shape: shape.map((s) => asInt(s, 'size')), stride: stride.map((s) => asInt(s, 'stride')) };
  }
  if (PARAMETER_REBUILDERS.has(fn.name)) {
    if (!isTensorRef(a[0] ?? null)) throw new PickleError(`${fn.name}: expected a tensor, found ${describe(a[0] ?? null)}`);
    return a[0];
  }
  if (fn.name === 'torch._tensor._rebuild_from_type_v2') {
    // (func, new_type, args, state): a Tensor or Parameter subclass wrapper around func(*args).
    const [inner, , innerArgs] = a;
    return apply(inner ?? null, innerArgs ?? []);
  }
  return new Opaque(`${fn.name}(…)`);
}

/**
 * Reads one pickle from `bytes`. `persistentLoad` turns a persistent id (a tuple) into a value;
 * torch's storages come through it.
 */
export function readPickle(bytes: Uint8Array, persistentLoad: (pid: PickleValue) => PickleValue): PickleValue {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const text = new TextDecoder('utf-8', { fatal: true });
  const stack: StackItem[] = [];
  const memo = new Map<number, PickleValue>();
  let pos = 0;
  const fail = (why: string): never => {
    throw new PickleError(`at byte ${pos}: ${why}`);
  };
  const need = (n: number) => {
    if (pos + n > bytes.length) fail(`the stream ends inside an opcode (needs ${n} more bytes, ${bytes.length - pos} left): the file is truncated`);
  };
  const u8 = () => (need(1), bytes[pos++]);
  const u16 = () => (need(2), (pos += 2), view.getUint16(pos - 2, true));
  const u32 = () => (need(4), (pos += 4), view.getUint32(pos - 4, true));
  const i32 = () => (need(4), (pos += 4), view.getInt32(pos - 4, true));
  const u64 = () => {
    need(8);
    const v = view.getBigUint64(pos, true);
    pos += 8;
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) fail('a length beyond 2^53');
    return Number(v);
  };
  const take = (n: number) => (need(n), (pos += n), bytes.subarray(pos - n, pos));
  const line = () => {
    const end = bytes.indexOf(0x0a, pos);
    if (end < 0) fail('a GLOBAL without its newline');
    const s = new TextDecoder('latin1').decode(bytes.subarray(pos, end));
    pos = end + 1;
    return s;
  };
  const pop = (): PickleValue => {
    const v = stack.pop();
    if (v === undefined) fail('an opcode needs a value but the stack is empty');
    if (v === MARK) fail('an opcode found a MARK where it needs a value');
    return v as PickleValue;
  };
  const popMark = (): PickleValue[] => {
    const k = stack.lastIndexOf(MARK);
    if (k < 0) fail('no MARK on the stack');
    const items = stack.splice(k + 1) as PickleValue[];
    stack.pop();
    return items;
  };
  const top = (): PickleValue => {
    const v = stack[stack.length - 1];
    if (v === undefined || v === MARK) fail('an opcode needs a container on the stack');
    return v as PickleValue;
  };
  const long = (b: Uint8Array): number | bigint => {
    if (b.length === 0) return 0;
    let v = 0n;
    for (let i = b.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]);
    if (b[b.length - 1] & 0x80) v -= 1n << BigInt(8 * b.length);
    return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
  };
  const global = (module: string, name: string): PickleValue => {
    const q = `${module}.${name}`;
    return KNOWN.has(q) || isStorageClass(q) ? new PickleGlobal(q) : new Opaque(q);
  };
  const setItems = (target: PickleValue, items: PickleValue[]) => {
    if (target instanceof Opaque) return;
    if (!(target instanceof Map)) fail(`SETITEM(S) on ${describe(target)}`);
    for (let i = 0; i + 1 < items.length; i += 2) (target as Map<PickleValue, PickleValue>).set(items[i], items[i + 1]);
  };
  const append = (target: PickleValue, items: PickleValue[]) => {
    if (target instanceof Opaque) return;
    if (!Array.isArray(target)) fail(`APPEND(S) on ${describe(target)}`);
    (target as PickleValue[]).push(...items);
  };

  for (;;) {
    if (pos >= bytes.length) fail('the stream ends before STOP: the file is truncated');
    const op = bytes[pos++];
    switch (op) {
      case 0x80: // PROTO
        if (u8() > 5) fail('a pickle protocol above 5');
        break;
      case 0x95: // FRAME
        u64();
        break;
      case 0x2e: // STOP
        return pop();
      case 0x28: // MARK
        stack.push(MARK);
        break;
      case 0x7d: // EMPTY_DICT
        stack.push(new Map());
        break;
      case 0x5d: // EMPTY_LIST
        stack.push([]);
        break;
      case 0x29: // EMPTY_TUPLE
        stack.push([]);
        break;
      case 0x74: // TUPLE
      case 0x6c: // LIST
        stack.push(popMark());
        break;
      case 0x64: {
        // DICT
        const items = popMark();
        const d = new Map<PickleValue, PickleValue>();
        setItems(d, items);
        stack.push(d);
        break;
      }
      case 0x85: // TUPLE1
        stack.push([pop()]);
        break;
      case 0x86: {
        // TUPLE2
        const b = pop();
        stack.push([pop(), b]);
        break;
      }
      case 0x87: {
        // TUPLE3
        const c = pop();
        const b = pop();
        stack.push([pop(), b, c]);
        break;
      }
      case 0x4e: // NONE
        stack.push(null);
        break;
      case 0x88: // NEWTRUE
        stack.push(true);
        break;
      case 0x89: // NEWFALSE
        stack.push(false);
        break;
      case 0x4a: // BININT
        stack.push(i32());
        break;
      case 0x4b: // BININT1
        stack.push(u8());
        break;
      case 0x4d: // BININT2
        stack.push(u16());
        break;
      case 0x8a: // LONG1
        stack.push(long(take(u8())));
        break;
      case 0x8b: // LONG4
        stack.push(long(take(u32())));
        break;
      case 0x47: // BINFLOAT (big-endian)
        need(8);
        stack.push(view.getFloat64(pos, false));
        pos += 8;
        break;
      case 0x58: // BINUNICODE
        stack.push(text.decode(take(u32())));
        break;
      case 0x8c: // SHORT_BINUNICODE
        stack.push(text.decode(take(u8())));
        break;
      case 0x8d: // BINUNICODE8
        stack.push(text.decode(take(u64())));
        break;
      case 0x54: // BINSTRING (python 2 str)
        stack.push(new TextDecoder('latin1').decode(take(i32())));
        break;
      case 0x55: // SHORT_BINSTRING
        stack.push(new TextDecoder('latin1').decode(take(u8())));
        break;
      case 0x42: // BINBYTES
        stack.push(take(u32()).slice());
        break;
      case 0x43: // SHORT_BINBYTES
        stack.push(take(u8()).slice());
        break;
      case 0x8e: // BINBYTES8
        stack.push(take(u64()).slice());
        break;
      case 0x71: // BINPUT
        memo.set(u8(), top());
        break;
      case 0x72: // LONG_BINPUT
        memo.set(u32(), top());
        break;
      case 0x94: // MEMOIZE
        memo.set(memo.size, top());
        break;
      case 0x68: // BINGET
      case 0x6a: {
        // LONG_BINGET
        const k = op === 0x68 ? u8() : u32();
        if (!memo.has(k)) fail(`memo entry ${k} is read before it is written`);
        stack.push(memo.get(k)!);
        break;
      }
      case 0x63: // GLOBAL
        stack.push(global(line(), line()));
        break;
      case 0x93: {
        // STACK_GLOBAL
        const name = pop();
        const module = pop();
        if (typeof name !== 'string' || typeof module !== 'string') fail('STACK_GLOBAL without module and name strings');
        stack.push(global(module as string, name as string));
        break;
      }
      case 0x51: // BINPERSID
        stack.push(persistentLoad(pop()));
        break;
      case 0x52: {
        // REDUCE
        const args = pop();
        stack.push(apply(pop(), args));
        break;
      }
      case 0x81: {
        // NEWOBJ: cls.__new__(cls, *args) — never built
        pop();
        const cls = pop();
        stack.push(new Opaque(`${cls instanceof Opaque || cls instanceof PickleGlobal ? cls.name : 'object'}.__new__`));
        break;
      }
      case 0x62: // BUILD: state on the object (OrderedDict's _metadata, an object's __dict__) — ignored
        pop();
        break;
      case 0x73: {
        // SETITEM
        const v = pop();
        const k = pop();
        setItems(top(), [k, v]);
        break;
      }
      case 0x75: {
        // SETITEMS
        const items = popMark();
        setItems(top(), items);
        break;
      }
      case 0x61: {
        // APPEND
        const v = pop();
        append(top(), [v]);
        break;
      }
      case 0x65: {
        // APPENDS
        const items = popMark();
        append(top(), items);
        break;
      }
      case 0x30: // POP
        stack.pop();
        break;
      case 0x31: // POP_MARK
        popMark();
        break;
      case 0x32: // DUP
        stack.push(top());
        break;
      default:
        fail(`opcode 0x${op.toString(16).padStart(2, '0')} is not one a state dict uses`);
    }
  }
}

export { isTensorRef };

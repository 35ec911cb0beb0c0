/**
 * A DNS server on 127.0.0.1 (UDP) that answers TXT questions from a table, for dns-01 tests: the
 * records of a name, or NXDOMAIN, SERVFAIL, or no answer at all. Names it does not know are
 * NXDOMAIN; questions of other types get an empty answer (NODATA). Nothing else of DNS is spoken.
 */
import { createSocket, type Socket } from 'node:dgram';
import type { AddressInfo } from 'node:net';

/** TXT records, each a list of character-strings (≤ 255 octets each). */
export type DnsTxtAnswer = string[][] | 'nxdomain' | 'servfail' | 'no-answer';

export interface DnsTxtServer {
  /** `127.0.0.1:<port>`, as CERTFLOW_ACME_DNS_RESOLVER takes it. */
  address: string;
  /** Lower-case name → answer; change it freely between tests. */
  answers: Map<string, DnsTxtAnswer>;
  /** Names asked, in order, as the client wrote them. */
  questions: string[];
  close(): Promise<void>;
}

const TYPE_TXT = 16;
const RCODE = { noError: 0, serverFailure: 2, nameError: 3 } as const;

export async function startDnsTxtServer(): Promise<DnsTxtServer> {
  const answers = new Map<string, DnsTxtAnswer>();
  const questions: string[] = [];
  const socket: Socket = createSocket('udp4');
  socket.on('message', (query, peer) => {
    const question = readQuestion(query);
    if (!question) return;
    questions.push(question.name);
    const answer = answers.get(question.name.toLowerCase()) ?? 'nxdomain';
    if (answer === 'no-answer') return;
    socket.send(response(query, question.end, question.type, answer), peer.port, peer.address);
  });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  return {
    address: `127.0.0.1:${(socket.address() as AddressInfo).port}`,
    answers,
    questions,
    close: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  };
}

/** The first question's name, type and where it ends (its class is not checked). */
function readQuestion(query: Buffer): { name: string; type: number; end: number } | null {
  if (query.length < 12 || query.readUInt16BE(4) < 1) return null;
  const labels: string[] = [];
  let offset = 12;
  while (offset < query.length && query[offset] !== 0) {
    const length = query[offset]!;
    if (length > 63) return null; // compression never appears in a question
    labels.push(query.subarray(offset + 1, offset + 1 + length).toString('latin1'));
    offset += 1 + length;
  }
  if (offset + 5 > query.length) return null;
  return { name: labels.join('.'), type: query.readUInt16BE(offset + 1), end: offset + 5 };
}

function response(query: Buffer, questionEnd: number, type: number, answer: Exclude<DnsTxtAnswer, 'no-answer'>): Buffer {
  const records = Array.isArray(answer) && type === TYPE_TXT ? answer : [];
  const rcode = answer === 'nxdomain' ? RCODE.nameError : answer === 'servfail' ? RCODE.serverFailure : RCODE.noError;
  const header = Buffer.alloc(12);
  query.copy(header, 0, 0, 2); // id
  // QR, the query's opcode and RD, AA, RA, rcode.
  header.writeUInt16BE(0x8000 | (query.readUInt16BE(2) & 0x7900) | 0x0400 | 0x0080 | rcode, 2);
  header.writeUInt16BE(1, 4);
  header.writeUInt16BE(records.length, 6);
  const resourceRecords = records.map((strings) => {
    const rdata = Buffer.concat(strings.map((text) => Buffer.concat([Buffer.from([Buffer.byteLength(text)]), Buffer.from(text)])));
    const fixed = Buffer.alloc(12);
    fixed.writeUInt16BE(0xc00c, 0); // the question's name
    fixed.writeUInt16BE(TYPE_TXT, 2);
    fixed.writeUInt16BE(1, 4); // IN
    fixed.writeUInt32BE(60, 6);
    fixed.writeUInt16BE(rdata.length, 10);
    return Buffer.concat([fixed, rdata]);
  });
  return Buffer.concat([header, query.subarray(12, questionEnd), ...resourceRecords]);
}

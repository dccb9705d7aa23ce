// UBI (raw flash images): erase blocks carry headers that map them to volumes; each volume is a
// partition whose bytes are not contiguous in the image, so it gets its own BlockSource.
import type { BlockSource, Reader } from './BlockSource.js';
import type { DetectedPartition, DetectedTable } from './types.js';
import { cstr } from './util.js';

const LAYOUT_VOLUME = 0x7fffefff;

export interface UbiVolume {
  partition: DetectedPartition;
  source: BlockSource;
}

export async function probeUbi(r: Reader, base: number): Promise<{ table: DetectedTable; volumes: UbiVolume[] } | undefined> {
  const ec = await r.bytes(0, 64);
  if (ec.toString('latin1', 0, 4) !== 'UBI#' || ec[4] !== 1) return undefined;
  const vidOffset = ec.readUInt32BE(16);
  const dataOffset = ec.readUInt32BE(20);
  let peb = 0;
  for (let k = 14; k <= 22; k++) {
    const at = 2 ** k;
    if (at >= r.size) break;
    if ((await r.bytes(at, 4)).toString('latin1') === 'UBI#') {
      peb = at;
      break;
    }
  }
  if (!peb) peb = r.size;
  if (dataOffset >= peb || vidOffset >= dataOffset) return undefined;
  const leb = peb - dataOffset;
  const pebs = Math.min(Math.floor(r.size / peb), 8192);
  const map = new Map<number, Map<number, { peb: number; sqnum: bigint }>>();
  for (let i = 0; i < pebs; i++) {
    const vid = await r.bytes(i * peb + vidOffset, 64);
    if (vid.toString('latin1', 0, 4) !== 'UBI!') continue;
    const vol = vid.readUInt32BE(8);
    const lnum = vid.readUInt32BE(12);
    const sqnum = vid.readBigUInt64BE(40);
    let lebs = map.get(vol);
    if (!lebs) map.set(vol, (lebs = new Map()));
    const old = lebs.get(lnum);
    if (!old || old.sqnum < sqnum) lebs.set(lnum, { peb: i, sqnum });
  }
  const layout = map.get(LAYOUT_VOLUME)?.get(0);
  const table: DetectedTable = { type: 'ubi', offset: base, id: String(ec.readUInt32BE(24)), partitions: [], notes: [`erase block ${peb} bytes, logical block ${leb} bytes`] };
  const volumes: UbiVolume[] = [];
  if (!layout) {
    table.notes!.push('no volume table found');
    return { table, volumes };
  }
  const vtbl = await r.bytes(layout.peb * peb + dataOffset, 128 * 172);
  for (let id = 0; id < 128; id++) {
    const rec = vtbl.subarray(id * 172, id * 172 + 172);
    const reserved = rec.readUInt32BE(0);
    if (!reserved || reserved === 0xffffffff) continue;
    const nameLength = Math.min(rec.readUInt16BE(14), 127);
    const lebs = map.get(id) ?? new Map<number, { peb: number; sqnum: bigint }>();
    const first = lebs.get(0);
    const partition: DetectedPartition = {
      index: id + 1,
      start: base + (first ? first.peb * peb + dataOffset : 0),
      size: reserved * leb,
      typeCode: rec[12] === 1 ? 'dynamic' : 'static',
      typeName: `UBI ${rec[12] === 1 ? 'dynamic' : 'static'} volume ${id}`,
      name: cstr(rec.subarray(16, 16 + nameLength)),
      flags: ['not-contiguous'],
      filesystems: [],
    };
    const size = reserved * leb;
    volumes.push({
      partition,
      source: {
        size,
        async read(offset: number, length: number): Promise<Buffer> {
          const out = Buffer.alloc(length);
          let done = 0;
          while (done < length && offset + done < size) {
            const at = offset + done;
            const l = Math.floor(at / leb);
            const within = at - l * leb;
            const n = Math.min(leb - within, length - done, size - at);
            const where = lebs.get(l);
            if (where) (await r.bytes(where.peb * peb + dataOffset + within, n)).copy(out, done);
            else out.fill(0xff, done, done + n);
            done += n;
          }
          return out;
        },
      },
    });
    table.partitions.push(partition);
  }
  return { table, volumes };
}

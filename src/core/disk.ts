/**
 * Free space under the data dir, and the floor Baton keeps (`--min-free-disk`): below it
 * the oldest evictable artifacts are deleted (ArtifactService.relieveDiskPressure) and an
 * upload that would cross it is refused with 507 before it fills the disk.
 *
 * The free space is what statfs says this process may still write (`bavail`, the blocks
 * not reserved for root). Tests swap `probe` for a function of their own.
 */
import { statfsSync } from 'node:fs';

/** Bytes that may still be written under `dir`. */
export type FreeSpaceProbe = (dir: string) => number;

export const statfsProbe: FreeSpaceProbe = (dir) => {
  const s = statfsSync(dir);
  return Number(s.bavail) * Number(s.bsize);
};

export class DiskSpace {
  constructor(readonly dir: string, readonly minFree: number, public probe: FreeSpaceProbe = statfsProbe) {}

  /** Bytes free under the data dir now. */
  free(): number { return this.probe(this.dir); }

  /**
   * Would writing `bytes` more still leave the floor free? Always true with the floor off (0),
   * and when statfs itself fails (the write then meets the real error, which is reported).
   */
  fits(bytes = 0): boolean {
    if (this.minFree === 0) return true;
    let free: number;
    try { free = this.free(); } catch { return true; }
    return free - bytes >= this.minFree;
  }

  /** The floor in words, for messages: "1 GiB". */
  floorText(): string { return formatBytes(this.minFree); }
}

export function formatBytes(n: number): string {
  const units = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  let v = n;
  while (v >= 1024 && i < units.length - 1) { v /= 1024; i++; }
  return `${Number.isInteger(v) ? v : v.toFixed(1)} ${units[i]}`;
}

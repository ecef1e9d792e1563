// A busybox OCI image archive built offline from Debian's busybox-static, for the engine
// tests: one uncompressed layer (busybox and its applets as hard links, made by GNU tar),
// three image configs sharing it (the plain image, one whose config sets User 1000:1000, and a
// pod sandbox ("pause") image that sleeps forever), their manifests, and an index naming them,
// in the OCI image layout, as a tar.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildRootfs } from './rootfs';

export const IMAGE = 'docker.io/capsa/busybox:test';
export const IMAGE_USER = 'docker.io/capsa/busybox:user';
export const IMAGE_PAUSE = 'docker.io/capsa/busybox:pause';

interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
}

function blob(layout: string, mediaType: string, data: Buffer): Descriptor {
  const hex = createHash('sha256').update(data).digest('hex');
  writeFileSync(join(layout, 'blobs', 'sha256', hex), data);
  return { mediaType, digest: `sha256:${hex}`, size: data.length };
}

function json(layout: string, mediaType: string, doc: unknown): Descriptor {
  return blob(layout, mediaType, Buffer.from(JSON.stringify(doc)));
}

/** Writes the archive to `file`, working in `work` (which must not exist; removed after). */
export function buildImageArchive(file: string, work: string): void {
  const rootfs = join(work, 'rootfs');
  const layout = join(work, 'layout');
  mkdirSync(join(layout, 'blobs', 'sha256'), { recursive: true });
  try {
    buildRootfs(rootfs);
    mkdirSync(join(rootfs, 'home', 'user'), { recursive: true });
    // What an engine's tmpfs with tmpcopyup (podman --read-only) must carry over.
    writeFileSync(join(rootfs, 'run', 'from-image'), 'from the image\n');
    // Reproducible, root-owned entries without a leading "./"; GNU tar stores the applets as
    // hard links to bin/busybox.
    const entries = readdirSync(rootfs).sort();
    const layer = execFileSync('tar', ['--sort=name', '--mtime=@0', '--owner=0', '--group=0', '--numeric-owner', '--format=gnu', '-C', rootfs, '-cf', '-', ...entries], { maxBuffer: 64 << 20 });
    const layerDesc = blob(layout, 'application/vnd.oci.image.layer.v1.tar', layer);

    const manifests: Descriptor[] = [];
    const variants: [string, Record<string, unknown>][] = [
      [IMAGE, { Cmd: ['sh'] }],
      [IMAGE_USER, { Cmd: ['sh'], User: '1000:1000' }],
      [IMAGE_PAUSE, { Cmd: ['/bin/sleep', 'infinity'] }],
    ];
    for (const [name, extra] of variants) {
      const config = json(layout, 'application/vnd.oci.image.config.v1+json', {
        created: '1970-01-01T00:00:00Z',
        architecture: 'amd64',
        os: 'linux',
        config: { Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'], WorkingDir: '/', ...extra },
        rootfs: { type: 'layers', diff_ids: [layerDesc.digest] },
        history: [{ created: '1970-01-01T00:00:00Z', created_by: 'capsa test: busybox-static with hard-linked applets' }],
      });
      const manifest = json(layout, 'application/vnd.oci.image.manifest.v1+json', {
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        config,
        layers: [layerDesc],
      });
      // containerd names images by io.containerd.image.name; podman's oci-archive transport
      // selects one by org.opencontainers.image.ref.name.
      manifests.push({ ...manifest, platform: { architecture: 'amd64', os: 'linux' }, annotations: { 'io.containerd.image.name': name, 'org.opencontainers.image.ref.name': name } } as Descriptor);
    }
    writeFileSync(join(layout, 'index.json'), JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests }));
    writeFileSync(join(layout, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
    execFileSync('tar', ['--sort=name', '--mtime=@0', '--owner=0', '--group=0', '--numeric-owner', '-C', layout, '-cf', file, 'oci-layout', 'index.json', 'blobs']);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}


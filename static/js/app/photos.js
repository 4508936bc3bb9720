// Photos: shrunk on the phone (longest side ≤ 2048 px, JPEG 0.8, upright as the camera held it),
// hashed (SHA-256 of the stored bytes — the server checks the same hash) and kept as Blobs.
import { db } from "./db.js";

const MAX_SIDE = 2048;

async function decode(file) {
  try {
    return await createImageBitmap(file, { imageOrientation: "from-image" });
  } catch {
    // Older Safari: an <img> applies the EXIF orientation itself.
    const url = URL.createObjectURL(file);
    try {
      const img = new Image();
      img.src = url;
      await img.decode();
      return img;
    } finally {
      URL.revokeObjectURL(url);
    }
  }
}

export function hex(buf) {
  return [...new Uint8Array(buf)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

export async function prepare(file) {
  const img = await decode(file);
  const w0 = img.width || img.naturalWidth;
  const h0 = img.height || img.naturalHeight;
  const scale = Math.min(1, MAX_SIDE / Math.max(w0, h0));
  const w = Math.max(1, Math.round(w0 * scale));
  const h = Math.max(1, Math.round(h0 * scale));
  const canvas = document.createElement("canvas");
  canvas.width = w;
  canvas.height = h;
  canvas.getContext("2d").drawImage(img, 0, 0, w, h);
  img.close?.();
  const blob = await new Promise((res, rej) => canvas.toBlob((b) => (b ? res(b) : rej(new Error("encode"))), "image/jpeg", 0.8));
  const sha256 = hex(await crypto.subtle.digest("SHA-256", await blob.arrayBuffer()));
  return { sha256, blob, type: "image/jpeg", size: blob.size, width: w, height: h, uploaded: false, created: Date.now() };
}

const urls = new Map();
export async function src(sha) {
  if (urls.has(sha)) return urls.get(sha);
  const p = await (await db()).get("photos", sha);
  const url = p ? URL.createObjectURL(p.blob) : `/api/v1/photos/${sha}`;
  urls.set(sha, url);
  return url;
}

// Forget a photo's bytes once no record refers to it any more and the server never got it.
export async function forgetIfUnused(sha) {
  const d = await db();
  const p = await d.get("photos", sha);
  if (!p || p.uploaded) return;
  const used = (await d.getAll("records")).some((r) => (r.data.photos ?? []).includes(sha));
  if (!used) await d.delete("photos", sha);
}

// The PDF viewer: pdf.js (vendored, served from this site) draws each page on a canvas.
// No inline script and no eval, so the Content-Security-Policy holds.
const box = document.getElementById("pdfview");
if (box) {
  const pdfjs = await import(box.dataset.lib);
  pdfjs.GlobalWorkerOptions.workerSrc = box.dataset.worker;
  // CJK fonts that are not embedded (STSong-Light) need the Adobe-GB1 CMaps, served here too.
  const doc = await pdfjs.getDocument({
    url: box.dataset.src, isEvalSupported: false, cMapUrl: box.dataset.cmaps, cMapPacked: true,
  }).promise;
  for (let n = 1; n <= doc.numPages; n++) {
    const page = await doc.getPage(n);
    const viewport = page.getViewport({ scale: 1.4 });
    const canvas = document.createElement("canvas");
    canvas.width = viewport.width;
    canvas.height = viewport.height;
    canvas.dataset.page = String(n);
    box.appendChild(canvas);
    await page.render({ canvasContext: canvas.getContext("2d"), viewport }).promise;
  }
  box.dataset.rendered = String(doc.numPages);
}

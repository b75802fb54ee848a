/* Upload page: drag and drop, one tus upload per file, resumable (第十三条: store within 24 h).
 *
 * tus-js-client keeps each upload's URL in localStorage under the file's fingerprint
 * (storeFingerprintForResuming), so after a network drop it retries by itself (retryDelays)
 * and after a closed tab, choosing the same file again resumes from the server's offset.
 * Requests carry the session cookie and the CSRF header the tus server expects.
 */
(function () {
  "use strict";

  var form = document.getElementById("upload-form");
  if (!form || !window.tus) { return; }
  var dropzone = document.getElementById("dropzone");
  var input = document.getElementById("file-input");
  var tbody = document.querySelector("#upload-list tbody");
  var empty = document.getElementById("upload-empty");
  var endpoint = form.getAttribute("data-endpoint");
  var resultBase = form.getAttribute("data-result-url");
  var csrf = form.querySelector("input[name=csrfmiddlewaretoken]").value;

  function field(name) {
    var el = form.elements.namedItem(name);
    return el && el.value ? String(el.value) : "";
  }

  function metadataFor(file) {
    var meta = { filename: file.name, filetype: file.type || "application/octet-stream", channel: "web" };
    ["device", "officer", "case", "patrol", "party", "location", "captured_at"].forEach(function (name) {
      var value = field(name);
      if (value) { meta[name] = value; }
    });
    if (meta.captured_at) {  // datetime-local is wall-clock time: send it with the browser's offset
      var local = new Date(meta.captured_at);
      if (!isNaN(local.getTime())) { meta.captured_at = local.toISOString(); }
    }
    return meta;
  }

  function text(el, value) { el.textContent = value; return el; }

  function make(tag, cls, content) {
    var el = document.createElement(tag);
    if (cls) { el.className = cls; }
    if (content !== undefined) { el.textContent = content; }
    return el;
  }

  function fileSize(bytes) {
    var units = ["B", "KB", "MB", "GB", "TB"];
    var i = 0;
    while (bytes >= 1024 && i < units.length - 1) { bytes /= 1024; i += 1; }
    return bytes.toFixed(i ? 1 : 0) + " " + units[i];
  }

  function errorMessage(err) {
    var res = err && err.originalResponse;
    if (res) {
      try {
        var body = JSON.parse(res.getBody());
        if (body && body.message) { return body.message; }
      } catch (e) { /* not JSON */ }
      var status = res.getStatus();
      if (status === 403) { return "无权上传或登录已过期，请重新登录"; }
      if (status === 413) { return "文件超过允许的最大大小"; }
      if (status) { return "服务器拒绝了上传（HTTP " + status + "）"; }
    }
    return "网络中断，上传已暂停；重新选择同一文件即可从断点继续";
  }

  function showResult(row, body) {
    var cell = row.result;
    cell.textContent = "";
    var rec = body.recording;
    if (!rec) {
      var problem = body.error && (body.error.message || JSON.stringify(body.error));
      cell.appendChild(make("span", "error", problem || "已接收，但未找到存储结果"));
      return;
    }
    var link = make("a", "", body.duplicate ? "已存在（重复提交，已关联）" : "已存储，查看记录");
    link.href = rec.url;
    link.className = "recording-link";
    cell.appendChild(link);
    if (body.duplicate) { cell.appendChild(make("span", "badge warn", "重复")); }
    if (rec.is_late) { cell.appendChild(make("span", "badge bad", "逾期存储")); }
    (rec.flags || []).forEach(function (flag) {
      if (flag !== "超过24小时存储") { cell.appendChild(make("span", "badge warn", flag)); }
    });
    var digests = make("div", "mono digests");
    digests.appendChild(make("div", "", "SHA-256 " + rec.sha256));
    digests.appendChild(make("div", "", "SM3 " + rec.sm3));
    cell.appendChild(digests);
    row.tr.classList.add("done");
  }

  function fetchResult(row, uploadUrl, attempt) {
    var id = uploadUrl.replace(/\/+$/, "").split("/").pop();
    fetch(resultBase + encodeURIComponent(id) + "/", { credentials: "same-origin" })
      .then(function (res) { return res.json().then(function (body) { return [res, body]; }); })
      .then(function (pair) {
        var body = pair[1];
        if (pair[0].ok && !body.recording && !body.error && attempt < 20) {
          setTimeout(function () { fetchResult(row, uploadUrl, attempt + 1); }, 500);
          return;
        }
        showResult(row, body);
      })
      .catch(function () { text(row.result, "已上传；结果暂不可查，请在音像记录列表中查看"); });
  }

  function addFile(file) {
    empty.hidden = true;
    var tr = make("tr", "upload-row");
    var name = make("td", "", file.name + "（" + fileSize(file.size) + "）");
    var progressCell = make("td");
    var bar = make("progress");
    bar.max = 100;
    bar.value = 0;
    var pct = make("span", "muted", " 0%");
    progressCell.appendChild(bar);
    progressCell.appendChild(pct);
    var result = make("td", "result", "等待上传…");
    tr.appendChild(name);
    tr.appendChild(progressCell);
    tr.appendChild(result);
    tbody.appendChild(tr);
    var row = { tr: tr, bar: bar, pct: pct, result: result };

    var upload = new window.tus.Upload(file, {
      endpoint: endpoint,
      chunkSize: 8 * 1024 * 1024,
      retryDelays: [0, 1000, 3000, 5000, 10000, 20000, 30000, 60000],
      storeFingerprintForResuming: true,
      removeFingerprintOnSuccess: true,
      metadata: metadataFor(file),
      headers: { "X-CSRFToken": csrf, "X-Requested-With": "XMLHttpRequest" },
      onBeforeRequest: function (req) {
        var xhr = req.getUnderlyingObject();
        if (xhr) { xhr.withCredentials = true; }
      },
      onProgress: function (sent, total) {
        var p = total ? Math.floor(sent * 100 / total) : 0;
        bar.value = p;
        text(pct, " " + p + "%");
        text(result, "上传中…");
      },
      onShouldRetry: function (err) {
        var status = err && err.originalResponse ? err.originalResponse.getStatus() : 0;
        text(result, "连接中断，正在重试…");
        return !status || status === 409 || status === 423 || status >= 500;
      },
      onError: function (err) {
        tr.classList.add("failed");
        result.textContent = "";
        result.appendChild(make("span", "error", errorMessage(err)));
      },
      onSuccess: function () {
        bar.value = 100;
        text(pct, " 100%");
        text(result, "已上传，正在核对摘要…");
        fetchResult(row, upload.url, 0);
      }
    });
    upload.findPreviousUploads().then(function (previous) {
      if (previous.length) {
        upload.resumeFromPreviousUpload(previous[0]);
        text(result, "发现未完成的上传，从断点继续…");
      }
      upload.start();
    });
  }

  function addFiles(list) {
    for (var i = 0; i < list.length; i += 1) { addFile(list[i]); }
  }

  input.addEventListener("change", function () { addFiles(input.files); input.value = ""; });
  ["dragenter", "dragover"].forEach(function (type) {
    dropzone.addEventListener(type, function (e) { e.preventDefault(); dropzone.classList.add("over"); });
  });
  ["dragleave", "drop"].forEach(function (type) {
    dropzone.addEventListener(type, function (e) { e.preventDefault(); dropzone.classList.remove("over"); });
  });
  dropzone.addEventListener("drop", function (e) {
    if (e.dataTransfer && e.dataTransfer.files) { addFiles(e.dataTransfer.files); }
  });
})();

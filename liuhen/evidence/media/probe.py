"""Media probing: what a recording is (container, codecs, duration, capture time) and whether
a browser can play it as is; the file-name patterns of body cameras.

Pure Python on PyAV (FFmpeg) and Pillow, no Django. Evidence is immutable, hence: nothing here
writes to an original (proxies, posters and thumbnails are derivatives, recorded with
``TOOL_VERSION``); :func:`probe` never raises, because an unreadable recording is still evidence
to be kept and flagged, not rejected; and files are streamed, never read whole into memory
(body-camera recordings run to several GiB).
"""

from __future__ import annotations

import contextlib
import os
import re
import threading
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta, timezone
from fractions import Fraction
from pathlib import Path, PurePath
from typing import BinaryIO, Protocol, runtime_checkable
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import av
import PIL
from PIL import Image, ImageFile, UnidentifiedImageError

from liuhen.evidence import filenames

try:  # HEIC photos (iPhones) only when the optional pillow-heif plugin is installed.
    from pillow_heif import register_heif_opener
except ImportError:  # pragma: no cover - depends on the environment
    pass
else:  # pragma: no cover
    register_heif_opener()

try:
    CHINA_TZ = ZoneInfo("Asia/Shanghai")
except ZoneInfoNotFoundError:  # pragma: no cover - no tzdata; China has had no DST since 1991
    CHINA_TZ = timezone(timedelta(hours=8), "CST")

_TRUNCATION_LOCK = threading.Lock()

TOOL_VERSION = (
    f"PyAV {av.__version__} / FFmpeg {getattr(av, 'ffmpeg_version_info', 'unknown')}"
    f" / Pillow {PIL.__version__}"
)

# Demuxers FFmpeg may use on uploads. Others are refused *before* their header is parsed:
# playlist-like formats (hls, concat, image2 patterns) would make FFmpeg open other local files
# or URLs named inside the upload.
ALLOWED_DEMUXERS = (
    "mov,mp4,m4a,3gp,3g2,mj2,avi,wav,w64,amr,amrnb,amrwb,mp3,aac,matroska,webm,mpegts,mpeg,"
    "mpegvideo,m4v,flv,asf,ogg,flac,h264,hevc,mjpeg,caf,aiff,mxf,dhav,ivf,rm,dv,nut"
)
# metadata_errors: Chinese recorders often write GBK tags, which are not UTF-8.
_OPEN = {
    "options": {"format_whitelist": ALLOWED_DEMUXERS, "protocol_whitelist": "file"},
    "metadata_errors": "replace",
}

# Container short name -> MIME type (audio-only files in video containers get audio/...).
MIME_TYPES = dict(
    pair.split("=")
    for pair in (
        "mp4=video/mp4 mov=video/quicktime 3gp=video/3gpp avi=video/x-msvideo wav=audio/wav "
        "amr=audio/amr mp3=audio/mpeg aac=audio/aac matroska=video/x-matroska "
        "mpegts=video/mp2t flv=video/x-flv asf=video/x-ms-asf ogg=audio/ogg jpeg=image/jpeg "
        "png=image/png heif=image/heic webp=image/webp tiff=image/tiff"
    ).split()
)
# Pillow formats accepted as photos. Only these are tried: other Pillow plugins claim video
# files (MPEG) or random bytes (TGA).
PHOTO_FORMATS = {"JPEG": "jpeg", "MPO": "jpeg", "PNG": "png", "HEIF": "heif", "WEBP": "webp"}
_MAGIC = (  # (offset, bytes, container): labels files that neither Pillow nor FFmpeg can open
    (8, b"AVI ", "avi"),
    (8, b"WAVE", "wav"),
    (0, b"#!AMR", "amr"),
    (0, b"ID3", "mp3"),
    (0, b"\xff\xd8\xff", "jpeg"),
    (0, b"\x89PNG", "png"),
    (0, b"\x1a\x45\xdf\xa3", "matroska"),
)
_HEIF_BRANDS = {"heic", "heix", "mif1", "msf1", "avif"}
_PROBE_PACKET_LIMIT = 400  # enough for one frame per stream even with long B-frame delays
_SEEK_DECODE_LIMIT = 900  # frames decoded after a seek before giving up (~30 s GOP at 30 fps)
_OUT_TB = Fraction(1, 90000)  # proxy video time base; exact for 15, 25, 30, 30000/1001 fps
_AAC_RATES = (16000, 22050, 24000, 32000, 44100, 48000)


class MediaError(Exception):
    """A derivative (proxy, poster, thumbnail) could not be produced from a recording."""


@runtime_checkable
class StreamSource(Protocol):
    """A recording read where it is stored, without a local copy (issue 14 item 6): an S3
    object read by ranged GETs of its pinned version (``storage.s3.S3Source``). ``open()`` gives
    a new seekable binary reader each time; ``size`` is the object's length, ``name`` says
    where it is in messages."""

    name: str
    size: int

    def open(self) -> BinaryIO: ...


# What probing and deriving read: a local path, or a :class:`StreamSource`.
Source = str | os.PathLike | StreamSource


def _is_stream(src) -> bool:
    return not isinstance(src, str | os.PathLike) and isinstance(src, StreamSource)


def open_source(src: Source) -> BinaryIO:
    """A seekable binary reader of ``src``; close it after use."""
    return src.open() if _is_stream(src) else open(src, "rb")  # noqa: SIM115 - caller closes


def source_size(src: Source) -> int:
    return src.size if _is_stream(src) else Path(src).stat().st_size


@contextlib.contextmanager
def av_input(src: Source) -> Iterator[av.container.InputContainer]:
    """PyAV's input container on ``src``: by path, or through a reader of a stream source (the
    demuxer's seeks become the reader's, e.g. ranged GETs)."""
    if not _is_stream(src):
        with av.open(str(src), **_OPEN) as container:
            yield container
        return
    with src.open() as fh, av.open(fh, **_OPEN) as container:
        yield container


@contextlib.contextmanager
def open_image(src: Source) -> Iterator[Image.Image]:
    """Pillow's image on ``src`` (a photo format of :data:`PHOTO_FORMATS`)."""
    with open_source(src) as fh, Image.open(fh, formats=_photo_formats()) as img:
        yield img


@dataclass
class MediaInfo:
    """What :func:`probe` learnt about a file. ``creation_time`` is an aware UTC datetime."""

    kind: str = "unknown"  # 'video' | 'audio' | 'photo' | 'unknown'
    media_type: str = "application/octet-stream"
    container: str | None = None
    video_codec: str | None = None
    audio_codec: str | None = None
    duration_seconds: float | None = None
    width: int | None = None
    height: int | None = None
    creation_time: datetime | None = None
    readable: bool = False
    error: str | None = None
    pixel_format: str | None = None
    frame_rate: float | None = None
    sample_rate: int | None = None
    channels: int | None = None

    def as_dict(self) -> dict:
        """Return a JSON-serialisable dict (creation_time as ISO 8601) for JSON fields/logs."""
        data = asdict(self)
        if self.creation_time is not None:
            data["creation_time"] = self.creation_time.isoformat()
        return data

    def set_container(self, container: str | None) -> None:
        """Set ``container`` and the matching ``media_type``."""
        self.container = container
        mime = MIME_TYPES.get(container or "", "application/octet-stream")
        if self.kind == "audio" and mime.startswith("video/"):  # e.g. AAC-only MP4: audio/mp4
            mime = "audio/" + mime.split("/", 1)[1]
        self.media_type = mime


def probe(path: Source) -> MediaInfo:
    """Describe a media file without ever raising.

    Photos are recognised by Pillow, audio/video by PyAV. Readability is decided cheaply: the
    MP4/RIFF structure is walked (truncated files are unreadable) and one frame per main stream
    is decoded. Any failure gives ``readable=False`` and ``error``.
    """
    info = MediaInfo()
    try:
        p = path if _is_stream(path) else Path(path)
        if not _is_stream(p) and not p.is_file():
            info.error = "not a regular file or does not exist"
            return info
        with open_source(p) as fh:
            head = fh.read(16)
        if not head:
            info.error = "empty file"
            return info
        info.set_container(_sniff(head))
        if not _probe_photo(p, info):
            _probe_av(p, info, head)
    except Exception as exc:  # noqa: BLE001 - by contract probe reports, it does not raise
        info.readable = False
        info.error = f"{type(exc).__name__}: {exc}"
    return info


def _sniff(head: bytes) -> str | None:
    """Guess the container from magic bytes, so that unreadable files keep a label."""
    if head[4:8] == b"ftyp":
        return _mp4_family(head[8:12].decode("latin-1"))
    for offset, magic, container in _MAGIC:
        if head[offset : offset + len(magic)] == magic:
            return container
    return None


def _mp4_family(brand: str) -> str:
    """Tell MP4, MOV, 3GP and HEIF apart by the ftyp major brand (one FFmpeg demuxer for all)."""
    brand = brand.strip().lower()
    if brand in _HEIF_BRANDS:
        return "heif"
    return "mov" if brand == "qt" else "3gp" if brand.startswith("3g") else "mp4"


def _photo_formats() -> list[str]:
    """Names of :data:`PHOTO_FORMATS` this Pillow can open (HEIF only with pillow-heif)."""
    Image.init()
    return [name for name in PHOTO_FORMATS if name in Image.OPEN]


def _probe_photo(p: Source, info: MediaInfo) -> bool:
    """Fill ``info`` if Pillow recognises a photo; return False to fall through to PyAV."""
    with contextlib.ExitStack() as stack:
        try:
            img = stack.enter_context(open_image(p))
        except UnidentifiedImageError:
            return False
        info.kind = "photo"
        info.set_container(PHOTO_FORMATS[img.format])
        info.width, info.height = img.size
        try:
            info.creation_time = _exif_time(img)
        except Exception:  # noqa: BLE001 - broken EXIF must not make the photo unreadable
            info.creation_time = None
        try:
            img.draft("RGB", (64, 64))  # JPEG: decode at 1/8 scale, still reads every byte
            # WeasyPrint sets Pillow's process-wide LOAD_TRUNCATED_IMAGES on import; a cut photo
            # must still count as unreadable here, so the flag is off while we decode.
            with _TRUNCATION_LOCK:
                saved = ImageFile.LOAD_TRUNCATED_IMAGES
                ImageFile.LOAD_TRUNCATED_IMAGES = False
                try:
                    img.load()
                finally:
                    ImageFile.LOAD_TRUNCATED_IMAGES = saved
            info.readable = True
        except Exception as exc:  # noqa: BLE001
            info.error = f"cannot decode image: {exc}"
    return True


def _exif_time(img: Image.Image) -> datetime | None:
    """EXIF DateTimeOriginal (else DateTimeDigitized) as aware UTC.

    EXIF stores wall-clock time without zone; unless OffsetTimeOriginal says otherwise it is
    China time (Asia/Shanghai). IFD0 DateTime is ignored on purpose: it is a modification time
    that editing software rewrites, so it must not pass for the capture time (第十八条).
    """
    exif_ifd = img.getexif().get_ifd(0x8769)

    def text(tag: int) -> str:
        """EXIF ASCII value as str: it may come as bytes and is often NUL padded."""
        value = exif_ifd.get(tag) or ""
        value = value.decode("ascii", "replace") if isinstance(value, bytes) else str(value)
        return value.strip("\x00 ")

    for time_tag, offset_tag in ((36867, 36881), (36868, 36882)):
        try:
            local = datetime.strptime(text(time_tag)[:19], "%Y:%m:%d %H:%M:%S")
        except ValueError:
            continue
        tz = CHINA_TZ
        if m := re.fullmatch(r"([+-])(\d{2}):(\d{2})", text(offset_tag)):
            delta = timedelta(hours=int(m[2]), minutes=int(m[3]))
            tz = timezone(delta if m[1] == "+" else -delta)
        return local.replace(tzinfo=tz).astimezone(UTC)
    return None


def _probe_av(p: Source, info: MediaInfo, head: bytes) -> None:
    """Fill ``info`` from PyAV: streams, duration, creation time, structure and decodability."""
    problem = _structure_problem(p, head)
    with contextlib.ExitStack() as stack:
        try:
            container = stack.enter_context(av_input(p))
        except av.FFmpegError as exc:
            info.error = "; ".join(filter(None, (problem, f"cannot open: {exc}")))
            return
        video = _main_video_stream(container)
        audio = container.streams.audio[0] if container.streams.audio else None
        info.kind = "video" if video else "audio" if audio else "unknown"
        name = container.format.name.split(",")[0]
        if name == "mov":
            name = _mp4_family(container.metadata.get("major_brand", ""))
            info.kind = "photo" if name == "heif" else info.kind
        info.set_container(name)
        if container.duration is not None:
            info.duration_seconds = container.duration / av.time_base
        info.creation_time = _container_time(container)
        if video is not None:
            cc = video.codec_context
            info.video_codec, info.width, info.height = cc.name, cc.width, cc.height
            info.pixel_format = cc.format.name if cc.format else None
            rate = video.average_rate or video.guessed_rate
            info.frame_rate = float(rate) if rate else None
        if audio is not None:
            cc = audio.codec_context
            info.audio_codec, info.sample_rate = cc.name, cc.sample_rate
            info.channels = cc.layout.nb_channels if cc.layout else None
        if info.kind == "unknown":
            info.error = problem or "no audio or video stream"
            return
        decode_error = _decode_check(container, [s for s in (video, audio) if s is not None])
        info.error = problem or decode_error
        info.readable = info.error is None


def _main_video_stream(container: av.container.InputContainer) -> av.VideoStream | None:
    """First real video stream; cover art in MP3/M4A (attached_pic) does not make it a video."""
    for stream in container.streams.video:
        if not stream.disposition & av.stream.Disposition.attached_pic:
            return stream
    return None


def _container_time(container: av.container.InputContainer) -> datetime | None:
    """``creation_time`` from container or stream metadata, as aware UTC.

    FFmpeg appends 'Z' where the format stores UTC (the MP4 mvhd box). Values without a zone
    (AVI IDIT chunks, some MOV tags) are camera wall-clock time and read as China time. Values
    before 1971 mean the camera's clock was never set.
    """
    for metadata in [container.metadata, *(s.metadata for s in container.streams)]:
        raw = (metadata.get("creation_time") or "").strip()
        if not raw:
            continue
        try:
            value = datetime.fromisoformat(raw)
        except ValueError:
            if not (m := re.match(r"(\d{4})-(\d\d)-(\d\d)[T ](\d\d):(\d\d):(\d\d)", raw)):
                continue
            value = datetime(*map(int, m.groups()))
        if value.tzinfo is None:
            value = value.replace(tzinfo=CHINA_TZ)
        if value.year > 1970:
            return value.astimezone(UTC)
    return None


def _structure_problem(p: Source, head: bytes) -> str | None:
    """Walk top-level MP4 boxes or RIFF chunks (headers only) to detect truncated files.

    A recorder that loses power leaves no ``moov`` box, or a box running past the end of the
    file; FFmpeg would still decode the first frames of the latter, so decoding is not enough.
    """
    iso, riff = head[4:8] == b"ftyp", head[:4] == b"RIFF"
    if not (iso or riff):
        return None
    size, pos, seen, problems = source_size(p), 0, set(), []
    with open_source(p) as fh:
        for _ in range(100_000):  # bound pathological files made of millions of tiny boxes
            if pos + 8 > size:
                break
            fh.seek(pos)
            hdr = fh.read(16)
            if riff:  # a RIFF/AVIX chain; size 0 or ~0 means "still recording": not judged
                length = int.from_bytes(hdr[4:8], "little")
                if hdr[:4] != b"RIFF" or length in (0, 0xFFFFFFFF):
                    break
                name, end = hdr[:4], pos + 8 + length
            else:
                length = int.from_bytes(hdr[:4], "big")
                if length == 1:  # 64-bit largesize (files over 4 GiB)
                    length = int.from_bytes(hdr[8:16], "big")
                elif length == 0:  # box extends to end of file
                    length = size - pos
                if length < 8:
                    return f"corrupt MP4 box header at offset {pos}"  # nothing more to learn
                name, end = hdr[4:8], pos + length
                seen.add(name)
            if end > size:
                problems.append(
                    f"truncated file: {name.decode('latin-1')!r} at offset {pos} needs"
                    f" {end - pos} bytes but only {size - pos} are present"
                )
                break
            pos = end + (length & 1 if riff else 0)  # RIFF chunks are padded to even sizes
    if iso and b"moov" not in seen and b"meta" not in seen:  # HEIF has meta, not moov
        problems.append("no 'moov' box (recording was not finalised)")
    return "; ".join(problems) or None


def _decode_check(container: av.container.InputContainer, streams: list) -> str | None:
    """Decode until every stream in ``streams`` produced one frame; return an error or None."""
    pending = {s.index for s in streams}
    last_error = None
    try:
        for count, packet in enumerate(container.demux(*streams)):
            if count >= _PROBE_PACKET_LIMIT:
                break
            try:  # a damaged first packet may be followed by decodable ones
                if packet.decode():
                    pending.discard(packet.stream.index)
            except av.FFmpegError as exc:
                last_error = f"{packet.stream.type} decode error: {exc}"
            if not pending:
                return None
    except av.FFmpegError as exc:
        last_error = f"demux error: {exc}"
    kinds = "/".join(sorted(s.type for s in streams if s.index in pending))
    return last_error or f"no decodable {kinds} frame found"


# The built-in body-camera naming schemes (evidence/data/filename_patterns.toml, with examples).
DEFAULT_FILENAME_PATTERNS: tuple[str, ...] = tuple(p.regex for p in filenames.builtin_patterns())


def capture_time_from_filename(
    name: str, patterns: Iterable[str | re.Pattern] = DEFAULT_FILENAME_PATTERNS
) -> tuple[datetime | None, str | None]:
    """Return (capture time as aware UTC, device number) parsed from a recording's file name.

    Body cameras name files after their device number and clock, often the only capture time
    left when metadata is missing; 第十八条 requires capture time and device to be recorded with
    the evidence. Patterns fully match the base name, with named groups ``ts`` (YYYYMMDDhhmmss,
    separators inside ignored), optionally ``device`` and ``seq``; string patterns ignore case.
    The time is camera wall-clock, read as Asia/Shanghai. The first pattern giving a valid
    time wins; if none does, (None, device of the first match or None) is returned.
    """
    base = PurePath(name.replace("\\", "/")).name
    fallback_device = None
    for pattern in patterns:
        regex = re.compile(pattern, re.IGNORECASE) if isinstance(pattern, str) else pattern
        if not (m := regex.fullmatch(base)):
            continue
        groups = m.groupdict()
        device = groups.get("device") or None
        try:
            local = datetime.strptime(re.sub(r"\D", "", groups.get("ts") or ""), "%Y%m%d%H%M%S")
        except ValueError:  # matched the shape, but e.g. month 13: try the next pattern
            fallback_device = fallback_device or device
            continue
        return local.replace(tzinfo=CHINA_TZ).astimezone(UTC), device
    return None, fallback_device


def is_browser_playable(info: MediaInfo) -> bool:
    """True if mainstream browsers play/show the file as is, so no proxy is needed.

    That is MP4/MOV with 8-bit 4:2:0 H.264 (and AAC, MP3 or no audio), MP3 or AAC-in-MP4
    audio, and JPEG/PNG photos. HEVC, MJPEG/AVI, WAV, AMR and HEIC all need a proxy.
    """
    if not info.readable:
        return False
    if info.kind == "photo":
        return info.container in {"jpeg", "png"}
    if info.kind == "video":
        return (
            info.container in {"mp4", "mov"}
            and info.video_codec == "h264"
            and info.pixel_format in {None, "yuv420p", "yuvj420p"}
            and info.audio_codec in {None, "aac", "mp3"}
        )
    playable_audio = {("mp3", "mp3"), ("mp4", "aac"), ("mp4", "mp3")}
    return info.kind == "audio" and (info.container, info.audio_codec) in playable_audio

"""Recordings recognised by content, stripped of every tag, measured; bad files refused."""

from __future__ import annotations

import io
import random
import shutil
import struct
import wave
from pathlib import Path

import mutagen
import pytest
from mutagen.id3 import COMM, ID3, TIT2, TPE1, TXXX
from mutagen.mp4 import MP4
from mutagen.oggopus import OggOpus
from mutagen.oggvorbis import OggVorbis
from mutagen.wave import WAVE

from geodata.audio import AudioError, UnsupportedAudio, prepare_audio

FIXTURES = Path(__file__).parent.parent / "fixtures" / "audio"
SECRET = "Maria Secreta"  # a name that must not survive
GPS = "+38.7139-009.1394"  # a position that must not survive


def sine_wav(seconds: float = 1.0, rate: int = 8000) -> bytes:
    """A real PCM WAV file (a square-ish tone), written with the standard library."""
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        frames = int(seconds * rate)
        w.writeframes(b"".join(struct.pack("<h", 8000 if (i // 20) % 2 else -8000)
                               for i in range(frames)))  # fmt: skip
    return out.getvalue()


def wav_with_info(seconds: float = 1.0) -> bytes:
    """A WAV with a LIST/INFO chunk naming its artist and a bext-like chunk: the kind of
    metadata a field recorder writes."""
    data = sine_wav(seconds)
    info = b"INFO" + b"IART" + struct.pack("<I", 14) + SECRET.encode() + b"\0"
    info += b"ICMT" + struct.pack("<I", len(GPS) + 1) + GPS.encode() + b"\0"
    if len(info) % 2:
        info += b"\0"
    extra = b"LIST" + struct.pack("<I", len(info)) + info
    bext = b"bext" + struct.pack("<I", 32) + b"Zoom H5 " + SECRET.encode().ljust(24, b"\0")
    body = data[12:] + extra + bext
    return b"RIFF" + struct.pack("<I", 4 + len(body)) + b"WAVE" + body


def tagged(name: str, tmp_path: Path) -> Path:
    """A fixture copied and given tags with mutagen: names, a position, a device."""
    path = tmp_path / name
    shutil.copy(FIXTURES / name, path)
    if name.endswith(".mp3"):
        tags = ID3()
        tags.add(TIT2(encoding=3, text=SECRET))
        tags.add(TPE1(encoding=3, text=SECRET))
        tags.add(TXXX(encoding=3, desc="location", text=GPS))
        tags.add(COMM(encoding=3, lang="eng", desc="", text="recorded on Pixel 7"))
        tags.save(path)
    elif name.endswith(".m4a"):
        audio = MP4(path)
        audio["\xa9nam"] = SECRET
        audio["\xa9ART"] = SECRET
        audio["\xa9xyz"] = GPS
        audio["\xa9too"] = "Pixel 7 Recorder"
        audio.save()
    elif name.endswith(".ogg"):
        audio = OggOpus(path) if "opus" in name else OggVorbis(path)
        audio["artist"] = SECRET
        audio["location"] = GPS
        audio.tags.vendor = "Pixel 7 Recorder"
        audio.save()
    return path


def no_trace(path: Path) -> None:
    data = path.read_bytes()
    for secret in (SECRET, GPS, "Pixel 7", "Zoom H5", "Avó Maria"):
        assert secret.encode() not in data, secret


@pytest.mark.parametrize(
    ("name", "mime"),
    [
        ("tone.mp3", "audio/mpeg"),
        ("tone.opus.ogg", "audio/ogg"),
        ("tone.vorbis.ogg", "audio/ogg"),
        ("tone.m4a", "audio/mp4"),
        ("tone.webm", "audio/webm"),
    ],
)
def test_every_tag_is_removed_and_the_duration_measured(name, mime, tmp_path):
    path = tagged(name, tmp_path)
    assert SECRET.encode() in path.read_bytes() or name.endswith(".webm")
    prepared = prepare_audio(path)
    assert prepared.mime_type == mime
    assert prepared.duration_s == pytest.approx(1.5, abs=0.1)
    no_trace(path)
    again = mutagen.File(path) if not name.endswith(".webm") else None
    if again is not None:  # still a file mutagen reads, with nothing in its tags
        assert not again.tags or (not list(again.tags.keys()) and not again.tags.vendor
                                  if hasattr(again.tags, "vendor") else not again.tags)  # fmt: skip
        assert again.info.length == pytest.approx(1.5, abs=0.1)
    assert prepare_audio(path).duration_s == prepared.duration_s  # stays acceptable


def test_a_webm_title_and_writing_app_are_blanked_in_place(tmp_path):
    path = tmp_path / "tone.webm"
    shutil.copy(FIXTURES / "tone.webm", path)
    assert "Avó Maria".encode() in path.read_bytes()
    size = path.stat().st_size
    prepared = prepare_audio(path)
    assert path.stat().st_size == size  # blanked where it lay: no offset moved
    no_trace(path)
    assert b"Lavf" not in path.read_bytes()
    assert prepared.duration_s == pytest.approx(1.508, abs=0.01)


def test_a_webm_recorded_live_has_its_duration_read_from_its_blocks(tmp_path):
    """MediaRecorder writes sizes it cannot know as 'unknown' and no Duration."""
    path = tmp_path / "recorded.webm"
    shutil.copy(FIXTURES / "recorded.webm", path)
    assert prepare_audio(path).duration_s == pytest.approx(1.52, abs=0.03)


def test_a_wav_keeps_only_its_sound(tmp_path):
    path = tmp_path / "voice.wav"
    path.write_bytes(wav_with_info(1.0))
    tags = WAVE(path)
    tags.add_tags()
    tags.tags.add(TPE1(encoding=3, text=SECRET + " id3"))
    tags.save()
    prepared = prepare_audio(path)
    assert prepared.duration_s == pytest.approx(1.0)
    no_trace(path)
    with wave.open(str(path)) as w:  # still a WAV the standard library reads
        assert w.getnframes() == 8000
    chunks, data, at = [], path.read_bytes(), 12
    while at < len(data):
        kind, length = struct.unpack_from("<4sI", data, at)
        chunks.append(kind)
        at += 8 + length + (length & 1)
    assert chunks == [b"fmt ", b"data"]


@pytest.mark.parametrize(
    ("content", "code"),
    [
        (b"Once upon a time there was a street\n" * 10, "not_audio"),
        (b"%PDF-1.7\n" + bytes(200), "not_audio"),
        (b"\x89PNG\r\n\x1a\n" + bytes(200), "not_audio"),
    ],
)
def test_a_file_that_is_not_audio_is_unsupported(content, code, tmp_path):
    path = tmp_path / "story.mp3"  # the name says MP3; the content decides
    path.write_bytes(content)
    with pytest.raises(UnsupportedAudio) as caught:
        prepare_audio(path)
    assert caught.value.status == 415 and caught.value.code == code


@pytest.mark.parametrize(
    ("name", "named"),
    [("tone.flac", "FLAC"), ("video.webm", "video"), ("fragmented.m4a", "fragmented")],
)
def test_sound_in_a_container_not_accepted_is_unsupported_and_says_which(name, named, tmp_path):
    path = tmp_path / name
    shutil.copy(FIXTURES / name, path)
    with pytest.raises(UnsupportedAudio) as caught:
        prepare_audio(path)
    assert caught.value.status == 415 and named in caught.value.message


@pytest.mark.parametrize(
    "name", ["tone.mp3", "tone.opus.ogg", "tone.vorbis.ogg", "tone.m4a", "tone.webm", "voice.wav"]
)
@pytest.mark.parametrize("keep", [0.6, 0.97])
def test_a_recording_cut_short_is_refused_as_damaged(name, keep, tmp_path):
    data = wav_with_info() if name == "voice.wav" else (FIXTURES / name).read_bytes()
    path = tmp_path / name
    path.write_bytes(data[: int(len(data) * keep)])
    with pytest.raises(AudioError) as caught:
        prepare_audio(path)
    assert caught.value.status == 422


@pytest.mark.parametrize("name", ["tone.mp3", "tone.opus.ogg", "tone.m4a", "tone.webm"])
def test_a_recording_with_garbage_in_its_structure_is_refused(name, tmp_path):
    data = bytearray((FIXTURES / name).read_bytes())
    middle = len(data) // 2
    data[middle : middle + 64] = b"\xa5" * 64  # over the headers there
    data += b"trailing bytes that hide a note"
    path = tmp_path / name
    path.write_bytes(bytes(data))
    with pytest.raises(AudioError) as caught:
        prepare_audio(path)
    assert caught.value.status == 422


def test_an_empty_file_is_refused(tmp_path):
    path = tmp_path / "empty.ogg"
    path.write_bytes(b"")
    with pytest.raises(AudioError) as caught:
        prepare_audio(path)
    assert caught.value.code == "empty_audio"


@pytest.mark.parametrize(
    "name",
    ["tone.mp3", "tone.opus.ogg", "tone.vorbis.ogg", "tone.m4a", "tone.webm", "recorded.webm"],
)
def test_randomly_damaged_recordings_are_refused_cleanly_or_kept_whole(name, tmp_path):
    """Bytes changed at random (and sometimes the end cut off): every outcome is an
    AudioError with a message or a recording that passes its own checks again."""
    rng = random.Random(name)
    original = (FIXTURES / name).read_bytes()
    path = tmp_path / name
    for _ in range(60):
        data = bytearray(original)
        for _ in range(rng.randint(1, 20)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        if rng.random() < 0.3:
            data = data[: rng.randrange(len(data))]
        path.write_bytes(bytes(data))
        try:
            prepared = prepare_audio(path)
        except AudioError as exc:
            assert exc.status in (415, 422) and exc.message
        else:
            assert prepare_audio(path).duration_s == prepared.duration_s

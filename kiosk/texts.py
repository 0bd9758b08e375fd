"""What the kiosk says to a citizen, in Bahasa Indonesia (KBBI: antrean, silakan).

Messages built in Python live here; fixed labels of a screen live in its .kv file.
The printer's problems have their messages in `kiosk.printer.MESSAGES`.
"""

GANGGUAN = "Layanan antrean sedang gangguan"
GANGGUAN_DETAIL = "Nomor antrean belum dapat diambil. Silakan coba lagi sebentar lagi atau hubungi petugas."
PRINT_FAILED = "Tiket tidak dapat dicetak"
PRINT_FAILED_DETAIL = ("Nomor antrean Anda tetap berlaku. Harap catat atau foto nomor ini, "
                       "lalu tunggu sampai nomor Anda dipanggil.")
TAKE_TICKET = "Silakan ambil tiket Anda"
LOADING = "Memuat daftar layanan..."
SURVEY_THANKS = "Terima kasih atas penilaian Anda."
SURVEY_NOT_SENT = "Penilaian belum terkirim karena layanan antrean sedang gangguan. Silakan coba lagi nanti."
NO_PRIORITY = "Tidak, layanan biasa"
OPEN = "Tersedia"
MORE_BELOW = "Masih ada layanan lain di bawah: geser daftar ini ke atas"
UNAVAILABLE = "Tidak tersedia"
CLOSED = "Layanan ini sedang tutup"


def unavailable(reason: str | None) -> str:
    """Why the chosen service can no longer be taken, on the confirmation: the catalog's
    words, after "Nomor antrean tidak dapat diambil" unless they say it themselves."""
    reason = reason or CLOSED
    return reason if reason.startswith("Nomor antrean") else f"Nomor antrean tidak dapat diambil. {reason}"


def quota_left(n: int | None) -> str:
    return OPEN if n is None else f"{OPEN} (sisa kuota hari ini: {n})"


def short_service(name: str) -> str:
    """A service's name up to its first bracket or comma: "KTP Elektronik (perekaman, ...)" -> "KTP Elektronik"."""
    cut = min((i for i in (name.find("("), name.find(",")) if i > 0), default=len(name))
    return name[:cut].strip() or name


def services_hint(names: list[str], shown: int = 3) -> str:
    """Up to three of an agency's services for its tile, and how many more:
    "KTP Elektronik · Kartu Keluarga · Akta Kelahiran · dan 2 lainnya"."""
    short = [short_service(n) for n in names]
    more = len(short) - shown
    return " \u00b7 ".join(short[:shown] + ([f"dan {more} lainnya"] if more > 0 else []))


def services_open(n_open: int, n_all: int) -> str:
    if n_open == 0:
        return "Tidak ada layanan yang buka saat ini"
    return f"{n_open} dari {n_all} layanan tersedia" if n_open < n_all else f"{n_all} layanan tersedia"


# The check-in of an online booking (screens/reservasi.py).
CHECKIN_SCAN = "Pindai kode QR reservasi Anda pada pemindai, atau ketik kodenya di bawah."
CHECKIN_TYPE = "Ketik kode reservasi Anda di bawah (tanpa tanda hubung)."
CODE_SHORT = "Kode reservasi belum lengkap: ketik 9 huruf dan angka setelah RSV."
CODE_TYPO = ("Kode reservasi tidak cocok. Periksa kembali setiap huruf dan angkanya, "
             "misalnya angka 0 dan huruf D, angka 5 dan huruf S.")
CODE_NOT_BOOKING = "Kode yang dipindai bukan kode reservasi. Silakan pindai kode QR dari bukti reservasi Anda."
CHECKIN_DONE = "Lapor diri berhasil. Silakan ambil tiket Anda"
CHECKIN_AGAIN = "Tiket yang sama dicetak ulang"
WALK_IN = "Ambil nomor antrean biasa"


def reservation(code: str, again: bool = False) -> str:
    return f"Reservasi {code} sudah lapor diri sebelumnya" if again else f"Tiket reservasi {code}"


def walk_in(service_name: str | None) -> str:
    return f"{WALK_IN}: {service_name}" if service_name else WALK_IN

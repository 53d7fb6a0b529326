//! Orientation and capture time from a photo's Exif.

use chrono::{FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, TimeZone};
use chrono_tz::Tz;
use exif::{In, Tag, Value};
use image::metadata::Orientation;

/// Orientation and capture time from raw Exif (a TIFF structure). Damaged Exif is ignored: the
/// picture itself is what matters.
pub(super) fn read_exif(raw: &[u8], time_zone: Tz) -> (Orientation, Option<i64>) {
    let Ok(exif) = exif::Reader::new().read_raw(raw.to_vec()) else {
        return (Orientation::NoTransforms, None);
    };
    let orientation = exif
        .get_field(Tag::Orientation, In::PRIMARY)
        .and_then(|f| f.value.get_uint(0))
        .and_then(|v| u8::try_from(v).ok())
        .and_then(Orientation::from_exif)
        .unwrap_or(Orientation::NoTransforms);
    let ascii = |tag: Tag| match exif.get_field(tag, In::PRIMARY).map(|f| &f.value) {
        Some(Value::Ascii(parts)) => parts.first().cloned(),
        _ => None,
    };
    // When the shutter was pressed; failing that, when the picture was digitised. Not
    // `DateTime`, which editors rewrite.
    let taken_at = [
        (
            Tag::DateTimeOriginal,
            Tag::OffsetTimeOriginal,
            Tag::SubSecTimeOriginal,
        ),
        (
            Tag::DateTimeDigitized,
            Tag::OffsetTimeDigitized,
            Tag::SubSecTimeDigitized,
        ),
    ]
    .into_iter()
    .find_map(|(time, offset, subsec)| {
        let mut when = exif::DateTime::from_ascii(&ascii(time)?).ok()?;
        if let Some(offset) = ascii(offset) {
            // A malformed offset leaves the time in the mine's zone.
            let _ = when.parse_offset(&offset);
        }
        if let Some(subsec) = ascii(subsec) {
            let _ = when.parse_subsec(&subsec);
        }
        exif_millis(&when, time_zone)
    });
    (orientation, taken_at)
}

fn exif_millis(when: &exif::DateTime, time_zone: Tz) -> Option<i64> {
    let date = NaiveDate::from_ymd_opt(
        i32::from(when.year),
        u32::from(when.month),
        u32::from(when.day),
    )?;
    let time = NaiveTime::from_hms_nano_opt(
        u32::from(when.hour),
        u32::from(when.minute),
        // A leap second, as some cameras write it, is the last second of its minute.
        u32::from(when.second.min(59)),
        when.nanosecond.unwrap_or(0),
    )?;
    let local = NaiveDateTime::new(date, time);
    // An offset out of range is ignored like a malformed one: the time is then the mine's.
    let offset = when
        .offset
        .and_then(|minutes| FixedOffset::east_opt(i32::from(minutes) * 60));
    let instant = match offset {
        Some(offset) => offset.from_local_datetime(&local).single()?,
        None => time_zone
            .from_local_datetime(&local)
            .earliest()?
            .fixed_offset(),
    };
    Some(instant.timestamp_millis())
}

#[cfg(test)]
mod tests {
    use std::io::Cursor;

    use super::*;

    fn tiff(fields: &[(Tag, &str)]) -> Vec<u8> {
        let fields: Vec<exif::Field> = fields
            .iter()
            .map(|(tag, text)| exif::Field {
                tag: *tag,
                ifd_num: In::PRIMARY,
                value: Value::Ascii(vec![text.as_bytes().to_vec()]),
            })
            .collect();
        let mut writer = exif::experimental::Writer::new();
        for field in &fields {
            writer.push_field(field);
        }
        let mut out = Cursor::new(Vec::new());
        writer.write(&mut out, false).expect("writes");
        out.into_inner()
    }

    #[test]
    fn the_capture_time_is_the_shutters_not_the_editors() {
        let shanghai = chrono_tz::Asia::Shanghai;
        let edited_only = tiff(&[(Tag::DateTime, "2026:11:21 09:00:00")]);
        assert_eq!(read_exif(&edited_only, shanghai).1, None);
        let digitized = tiff(&[
            (Tag::DateTime, "2026:11:21 09:00:00"),
            (Tag::DateTimeDigitized, "2026:11:20 08:30:00"),
        ]);
        assert_eq!(read_exif(&digitized, shanghai).1, Some(1_795_134_600_000));
        let leap = tiff(&[(Tag::DateTimeOriginal, "2026:11:20 08:29:60")]);
        assert_eq!(read_exif(&leap, shanghai).1, Some(1_795_134_599_000));
        assert_eq!(
            read_exif(b"not exif at all", shanghai),
            (Orientation::NoTransforms, None)
        );
    }

    #[test]
    fn exif_time_without_an_offset_is_in_the_mines_zone() {
        let mut when = exif::DateTime::from_ascii(b"2026:11:20 08:30:00").expect("parses");
        let shanghai = exif_millis(&when, chrono_tz::Asia::Shanghai);
        assert_eq!(shanghai, Some(1_795_134_600_000));
        when.parse_offset(b"+00:00").expect("offset");
        assert_eq!(
            exif_millis(&when, chrono_tz::Asia::Shanghai),
            Some(1_795_163_400_000)
        );
        let nonsense = exif::DateTime::from_ascii(b"2026:13:45 99:00:00").expect("parses");
        assert_eq!(exif_millis(&nonsense, chrono_tz::Asia::Shanghai), None);
    }
}

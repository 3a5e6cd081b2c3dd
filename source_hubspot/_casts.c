/* source_hubspot._casts: the record caster's per-property loop (HubspotRecordCaster._cast_loop) in C.
 *
 * cast_properties(record, values, table, known, names, entries, failed) does what _cast_loop does, value for value:
 *
 *     for name, value in values.items():
 *         if value is None: continue
 *         cast, column = table.get(name) or (None, flat_column(name))
 *         if cast is not None:
 *             cast_value = values[name] = cast(value)
 *             if cast_value is None:
 *                 if not _is_blank(value): failed.append(name)
 *                 continue
 *             value = cast_value
 *         elif type(value) is not str:
 *             value = values[name] = str(value)
 *         record[column] = value
 *
 * `failed` is a list: the names of the values that could not be cast (not blank, yet cast to None) are added to it.
 * For the casts in `known` it first tests for HubSpot's usual texts, which it casts itself as the cast function
 * would (an integer of up to 18 ASCII digits, a boolean text, a float text, a valid 'YYYY-MM-DDTHH:MM:SS[.fff]Z'
 * datetime or 'YYYY-MM-DD' date, kept as they are, epoch-millisecond digits of the years 1970 to 9999), and calls
 * the Python function for anything else, so both give the same value. `known` is a tuple:
 *     (cast_number, cast_bool, cast_datetime, cast_date, boolean_texts, flat_column)
 * where boolean_texts is the dict of texts the bool cast knows (to True or False). `names` and `entries` are a plan:
 * the property names of an earlier record in its order and their table entries (None for a name the table lacks). A
 * property at the place the plan gives its name takes the plan's entry; any other is looked up in the table. It
 * returns how many places did not match the plan (0: the plan fits this record's names and order).
 *
 * Python code only calls this module through source_hubspot.components, which falls back to _cast_loop when the
 * extension is not built: the results are the same, checked by unit_tests/test_caster.py against the loop.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>

enum { K_NUMBER, K_BOOL, K_DATETIME, K_DATE, K_BOOLEANS, K_FLAT, K_COUNT };

/* True when `text` (an exact str of `length` characters) is 1..max_length ASCII digits. */
static int
ascii_digits(PyObject *text, Py_ssize_t length, Py_ssize_t max_length)
{
    if (length == 0 || length > max_length || !PyUnicode_IS_ASCII(text)) {
        return 0;
    }
    const Py_UCS1 *chars = PyUnicode_1BYTE_DATA(text);
    for (Py_ssize_t i = 0; i < length; i++) {
        if (chars[i] < '0' || chars[i] > '9') {
            return 0;
        }
    }
    return 1;
}

static PyObject *
call1(PyObject *function, PyObject *value)
{
    return PyObject_CallOneArg(function, value);
}

/* Writes `number` in decimal, at least `width` digits, zero-padded; returns the end. */
static char *
put_digits(char *out, unsigned long long number, int width)
{
    char digits[24];
    int count = 0;
    do {
        digits[count++] = (char)('0' + number % 10);
        number /= 10;
    } while (number > 0);
    while (count < width) {
        digits[count++] = '0';
    }
    while (count > 0) {
        *out++ = digits[--count];
    }
    return out;
}

/* The last epoch millisecond of the year 9999: later ones are no datetimes (_EPOCH_MILLIS). */
#define MAX_EPOCH_MILLIS 253402300799999ULL

/* 'YYYY-MM-DDTHH:MM:SS.mmmZ' (UTC) of 1..15 ASCII digits of epoch milliseconds up to MAX_EPOCH_MILLIS, as
 * _datetime_of_epoch_millis formats them; NULL with no exception set for a later one. The civil date of a day count
 * is Howard Hinnant's days-to-civil algorithm (proleptic Gregorian calendar, as Python's datetime); the counts here
 * are never negative. */
static PyObject *
epoch_datetime(PyObject *text, Py_ssize_t length)
{
    const Py_UCS1 *chars = PyUnicode_1BYTE_DATA(text);
    unsigned long long millis = 0;
    for (Py_ssize_t i = 0; i < length; i++) {
        millis = millis * 10 + (unsigned long long)(chars[i] - '0');
    }
    if (millis > MAX_EPOCH_MILLIS) {
        return NULL;
    }
    unsigned long long seconds = millis / 1000, days = seconds / 86400, second = seconds % 86400;
    unsigned long long z = days + 719468, era = z / 146097, doe = z - era * 146097;
    unsigned long long yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned long long doy = doe - (365 * yoe + yoe / 4 - yoe / 100), mp = (5 * doy + 2) / 153;
    unsigned long long day = doy - (153 * mp + 2) / 5 + 1, month = mp < 10 ? mp + 3 : mp - 9;
    unsigned long long year = yoe + era * 400 + (month <= 2);
    char out[48], *end = put_digits(out, year, 4);
    *end++ = '-';
    end = put_digits(end, month, 2);
    *end++ = '-';
    end = put_digits(end, day, 2);
    *end++ = 'T';
    end = put_digits(end, second / 3600, 2);
    *end++ = ':';
    end = put_digits(end, second / 60 % 60, 2);
    *end++ = ':';
    end = put_digits(end, second % 60, 2);
    *end++ = '.';
    end = put_digits(end, millis % 1000, 3);
    *end++ = 'Z';
    return PyUnicode_DecodeASCII(out, end - out, NULL);
}

/* Whether chars[from:to] are ASCII digits; their value in *number. */
static int
digits_value(const Py_UCS1 *chars, int from, int to, int *number)
{
    int value = 0;
    for (int i = from; i < to; i++) {
        if (chars[i] < '0' || chars[i] > '9') {
            return 0;
        }
        value = value * 10 + (chars[i] - '0');
    }
    *number = value;
    return 1;
}

/* Whether chars[0:10] are a valid 'YYYY-MM-DD' date of the years 1 to 9999 (as datetime.fromisoformat reads it). */
static int
valid_date(const Py_UCS1 *chars)
{
    static const int days_in_month[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int year, month, day;
    if (chars[4] != '-' || chars[7] != '-' || !digits_value(chars, 0, 4, &year) || !digits_value(chars, 5, 7, &month)
        || !digits_value(chars, 8, 10, &day) || year < 1 || month < 1 || month > 12 || day < 1) {
        return 0;
    }
    int leap = month == 2 && year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    return day <= days_in_month[month - 1] + leap;
}

/* Whether an exact str of `length` characters is 'YYYY-MM-DDTHH:MM:SSZ', 'YYYY-MM-DDTHH:MM:SS.fffZ' or
 * 'YYYY-MM-DDTHH:MM:SS.ffffffZ' with a valid date and time: texts every Python's datetime.fromisoformat reads (a
 * final Z as +00:00). Any other text is for the Python function to judge. */
static int
usual_datetime(PyObject *text, Py_ssize_t length)
{
    if ((length != 20 && length != 24 && length != 27) || !PyUnicode_IS_ASCII(text)) {
        return 0;
    }
    const Py_UCS1 *chars = PyUnicode_1BYTE_DATA(text);
    int hour, minute, second, fraction;
    return chars[10] == 'T' && chars[13] == ':' && chars[16] == ':' && chars[length - 1] == 'Z'
           && (length == 20 || (chars[19] == '.' && digits_value(chars, 20, (int)length - 1, &fraction)))
           && valid_date(chars) && digits_value(chars, 11, 13, &hour) && digits_value(chars, 14, 16, &minute)
           && digits_value(chars, 17, 19, &second) && hour < 24 && minute < 60 && second < 60;
}

/* Whether `value` is a text of whitespace only (or none): a value whose cast to None is not counted (_is_blank).
 * Asked only of values a cast turned to None, so str.isspace itself answers, as in the Python loop. */
static int
is_blank(PyObject *value)
{
    if (!PyUnicode_Check(value)) {
        return 0;
    }
    if (PyUnicode_GET_LENGTH(value) == 0) {
        return 1;
    }
    PyObject *answer = PyObject_CallMethod(value, "isspace", NULL);
    if (answer == NULL) {
        PyErr_Clear();
        return 0;
    }
    int blank = answer == Py_True;
    Py_DECREF(answer);
    return blank;
}

/* The number cast: int() of up to 18 ASCII digits, float() of a text with a '.' (None when float() refuses it or
 * it is not finite), else the Python function. */
static PyObject *
cast_number(PyObject *value, PyObject *fallback)
{
    if (!PyUnicode_CheckExact(value)) {
        return call1(fallback, value);
    }
    Py_ssize_t length = PyUnicode_GET_LENGTH(value);
    if (ascii_digits(value, length, 18)) {
        const Py_UCS1 *chars = PyUnicode_1BYTE_DATA(value);
        long long number = 0;
        for (Py_ssize_t i = 0; i < length; i++) {
            number = number * 10 + (chars[i] - '0');
        }
        return PyLong_FromLongLong(number);
    }
    Py_ssize_t dot = PyUnicode_FindChar(value, '.', 0, length, 1);
    if (dot == -2) {
        return NULL;
    }
    if (dot >= 0) {
        PyObject *number = PyFloat_FromString(value);
        if (number == NULL && PyErr_ExceptionMatches(PyExc_ValueError)) {
            PyErr_Clear();
            Py_RETURN_NONE;
        }
        if (number != NULL && !isfinite(PyFloat_AS_DOUBLE(number))) {
            Py_DECREF(number);
            Py_RETURN_NONE;
        }
        return number;
    }
    return call1(fallback, value);
}

/* A new reference to the cast value of `value` (not None) by `cast`; NULL with an exception set. */
static PyObject *
cast_value(PyObject *cast, PyObject *value, PyObject *const *known)
{
    if (cast == known[K_NUMBER]) {
        return cast_number(value, cast);
    }
    int is_text = PyUnicode_CheckExact(value);
    if (cast == known[K_DATETIME]) {
        if (is_text) {
            Py_ssize_t length = PyUnicode_GET_LENGTH(value);
            if (usual_datetime(value, length)) {
                return Py_NewRef(value);
            }
            if (ascii_digits(value, length, 15)) {
                PyObject *text = epoch_datetime(value, length);
                if (text != NULL || PyErr_Occurred()) {
                    return text;
                }
            }
        }
        return call1(cast, value);
    }
    if (cast == known[K_DATE]) {
        if (is_text && PyUnicode_GET_LENGTH(value) == 10 && PyUnicode_IS_ASCII(value)
            && valid_date(PyUnicode_1BYTE_DATA(value))) {
            return Py_NewRef(value);
        }
        return call1(cast, value);
    }
    if (cast == known[K_BOOL] && is_text) {
        PyObject *known_text = PyDict_GetItemWithError(known[K_BOOLEANS], value);
        if (known_text != NULL) {
            return Py_NewRef(known_text);
        }
        if (PyErr_Occurred()) {
            return NULL;
        }
    }
    return call1(cast, value);
}

/* Whether two objects are exact strs of the same text. */
static int
same_text(PyObject *a, PyObject *b)
{
    if (!PyUnicode_CheckExact(a) || !PyUnicode_CheckExact(b)) {
        return 0;
    }
#if PY_VERSION_HEX < 0x030C0000
    if (PyUnicode_READY(a) < 0 || PyUnicode_READY(b) < 0) {
        PyErr_Clear();
        return 0;
    }
#endif
    Py_ssize_t length = PyUnicode_GET_LENGTH(a);
    return length == PyUnicode_GET_LENGTH(b) && PyUnicode_KIND(a) == PyUnicode_KIND(b)
           && memcmp(PyUnicode_DATA(a), PyUnicode_DATA(b), (size_t)length * PyUnicode_KIND(a)) == 0;
}

static PyObject *
cast_properties(PyObject *Py_UNUSED(module), PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 7 || !PyDict_Check(args[0]) || !PyDict_Check(args[1]) || !PyDict_Check(args[2])
        || !PyTuple_Check(args[3]) || PyTuple_GET_SIZE(args[3]) != K_COUNT
        || !PyDict_Check(PyTuple_GET_ITEM(args[3], K_BOOLEANS)) || !PyTuple_Check(args[4])
        || !PyTuple_Check(args[5]) || PyTuple_GET_SIZE(args[4]) != PyTuple_GET_SIZE(args[5]) || !PyList_Check(args[6])) {
        PyErr_SetString(PyExc_TypeError, "cast_properties(record: dict, values: dict, table: dict, known: tuple of 6, "
                                         "names: tuple, entries: tuple of as many, failed: list)");
        return NULL;
    }
    PyObject *record = args[0], *values = args[1], *table = args[2], *failed = args[6];
    PyObject *const *known = &PyTuple_GET_ITEM(args[3], 0);
    PyObject *const *plan_names = &PyTuple_GET_ITEM(args[4], 0);
    PyObject *const *plan_entries = &PyTuple_GET_ITEM(args[5], 0);
    Py_ssize_t planned = PyTuple_GET_SIZE(args[4]), index = 0, unplanned = 0, position = 0;
    PyObject *name, *value;
    while (PyDict_Next(values, &position, &name, &value)) {
        /* The table's entry of this property: from the plan (the entries of the names in the order an earlier
         * record had them), when this record has the same name at this place; else looked up. */
        PyObject *entry = NULL;
        if (index < planned && (plan_names[index] == name || same_text(plan_names[index], name))) {
            entry = plan_entries[index];
        }
        else {
            unplanned++;
        }
        index++;
        if (value == Py_None) {
            continue;
        }
#if PY_VERSION_HEX < 0x030C0000
        if (PyUnicode_Check(value) && PyUnicode_READY(value) < 0) {
            return NULL;
        }
#endif
        if (entry == NULL) {
            entry = PyDict_GetItemWithError(table, name);
            if (entry == NULL && PyErr_Occurred()) {
                return NULL;
            }
        }
        PyObject *cast = Py_None, *column;
        if (entry != NULL && PyTuple_Check(entry) && PyTuple_GET_SIZE(entry) == 2) {
            cast = PyTuple_GET_ITEM(entry, 0);
            column = Py_NewRef(PyTuple_GET_ITEM(entry, 1));
        }
        else {  /* a property the schema lacks: a string column */
            column = call1(known[K_FLAT], name);
            if (column == NULL) {
                return NULL;
            }
        }
        PyObject *result;
        if (cast != Py_None) {
            /* Values are only replaced, never added or removed, so the iteration stays valid; the name and the
             * cast are held while Python code runs. */
            Py_INCREF(name);
            Py_INCREF(cast);
            result = cast_value(cast, value, known);
            /* A value cast to None that was not blank could not be cast. (Read before the SetItem below, which
             * drops the dict's reference to `value`.) */
            if (result == Py_None && !is_blank(value) && PyList_Append(failed, name) < 0) {
                Py_CLEAR(result);
            }
            if (result != NULL && result != value && PyDict_SetItem(values, name, result) < 0) {
                Py_CLEAR(result);
            }
            Py_DECREF(cast);
            Py_DECREF(name);
        }
        else if (PyUnicode_CheckExact(value)) {
            result = Py_NewRef(value);
        }
        else {
            Py_INCREF(name);
            result = PyObject_Str(value);
            if (result != NULL && PyDict_SetItem(values, name, result) < 0) {
                Py_CLEAR(result);
            }
            Py_DECREF(name);
        }
        if (result == NULL) {
            Py_DECREF(column);
            return NULL;
        }
        int failed = result != Py_None && PyDict_SetItem(record, column, result) < 0;
        Py_DECREF(result);
        Py_DECREF(column);
        if (failed) {
            return NULL;
        }
    }
    return PyLong_FromSsize_t(unplanned + (index < planned ? planned - index : 0));
}

static PyMethodDef methods[] = {
    {"cast_properties", (PyCFunction)(void (*)(void))cast_properties, METH_FASTCALL,
     "cast_properties(record, values, table, known, names, entries, failed): the caster's loop over one record's "
     "properties; adds the names of the values it could not cast to `failed`; returns how many places did not "
     "match the plan (names, entries)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_casts", "The record caster's per-property loop, in C.", 0, methods, NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC
PyInit__casts(void)
{
    return PyModule_Create(&module);
}

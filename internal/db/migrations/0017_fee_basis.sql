-- A fee record names the 件 it counted and the provision it rests on
-- (发改价格规〔2016〕2559号): a mortgage is one 件 per parcel (宗地). Fees
-- charged before this migration have neither and keep NULL: they were
-- charged as one 件, under the rule their basis code names.
ALTER TABLE fees
    ADD COLUMN cases int CHECK (cases >= 0),
    ADD COLUMN rule  text;

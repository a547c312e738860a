"""English sound words mapped to AudioSet class names.

Each entry is one line of a small table: ``pattern => Label @priority [context]``.

- ``pattern``: alternatives separated by ``|``; each alternative is one or more
  word stems. A stem also matches its inflections ("bark" finds "barks",
  "barking"; "whistl" finds "whistle", "whistling"); a stem ending in ``!``
  matches only itself. Words of a multi-word alternative may have one other
  word between them ("car's horn", "clears his throat").
- ``priority``: which hit names the event when a phrase has several. Sound
  verbs and sound-making things (2) beat the sources that make them (1), so
  "a dog barks" is Bark, not Dog; word pairs and contextual senses (3-4) beat
  both ("car horn", a baby that cries).
- ``context``: the entry applies only when the phrase (or the clause it
  continues) mentions that kind of source: "whistles" is Whistling for a
  person and Whistle otherwise.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

# Inflection endings, with an optional doubled consonant ("hum" -> "humming").
_SUFFIX = r"(?:[bdgklmnprtz]?(?:ings?|ed|ers?|es|e|s|y|ies|ied|ily|ly))?"

_TABLE = r"""
# --- vehicles
car horn|vehicle horn|horn honk|honk horn|car honk|horn blar|horn beep|horn toot|horn sound => Vehicle horn, car horn, honking @4
horn|honk|toot => Vehicle horn, car horn, honking @2
honk => Honk @4 goose
train horn|horn train => Train horn @4
horn => Train horn @3 train
train whistl|whistl train => Train whistle @4
whistl => Train whistle @3 train
air horn|truck horn|truck honk|lorry horn|lorry honk => Air horn, truck horn @4
fog horn|foghorn => Foghorn @4
car alarm|alarm car => Car alarm @4
engine start|start engine|engine turn over|ignition|start up!|starting up! => Engine starting @4
start => Engine starting @3 vehicle
engine idl|idl engine|idl|idle! => Idling @3
rev|revv|accelerat|vroom => Accelerating, revving, vroom @2.5
engine knock => Engine knocking @4
pass|passing by|drive by|drive past|go by|zoom by|speed by|whizz by => Car passing by @3 car
race car|racing car|racecar|auto racing|car race => Race car, auto racing @4
tire squeal|tires squeal|tire screech|squeal tire => Tire squeal @4
squeal|screech => Tire squeal @3 tire
skid => Skidding @2.5
power window|electric window => Power windows, electric windows @4
air brake => Air brake @4
reversing beep|backup beep|back up beep|reverse beep|reversing alarm => Reversing beeps @4
ice cream truck|ice cream van => Ice cream truck, ice cream van @4
police car|police siren|cop car => Police car (siren) @4
ambulance => Ambulance (siren) @3
fire truck|fire engine => Fire engine, fire truck (siren) @4
emergency vehicle => Emergency vehicle @3
air raid siren|civil defense siren|tornado siren|air-raid siren => Civil defense siren @4
traffic => Traffic noise, roadway noise @2
wheels squeal|wheel squeal|train squeal => Train wheels squealing @4
subway|metro! => Subway, metro, underground @2
jet engine|jet! => Jet engine @2.5
aircraft engine|airplane engine|plane engine|aeroplane engine => Aircraft engine @4
airplane|aeroplane|plane!|planes!|airliner|jet plane => Fixed-wing aircraft, airplane @2
aircraft => Aircraft @2
propeller => Propeller, airscrew @2
helicopter|chopper => Helicopter @2
motorboat|speedboat|motor boat|jet ski => Motorboat, speedboat @2.5
sailboat|sailing ship|sail! => Sailboat, sailing ship @2
rowboat|canoe|kayak|paddl|row! => Rowboat, canoe, kayak @2
boat => Boat, Water vehicle @1.5
ship => Ship @1.5
motorcycle|motorbike|dirt bike|moped|scooter => Motorcycle @2
truck|lorry => Truck @1.5
bus|buses! => Bus @1.5
car|cars!|automobile|sedan => Car @1.2
vehicle => Vehicle @1.1
engine|motor => Engine @1.4
train|locomotive => Train @1.5
railroad|railway|rail|railroad track|train track => Rail transport @1.2
railroad car|train car|train wagon|freight car => Railroad car, train wagon @4
bicycle|bike|cyclist => Bicycle @1.5
skateboard => Skateboard @2
lawn mower|lawnmower|mower => Lawn mower @3
chainsaw|chain saw => Chainsaw @3
# --- weather and water
rain on roof|rain on window|rain hit|rain on tin|rain fall on|rain patter => Rain on surface @4
rain|drizzl|downpour|rainfall|rainstorm|raining! => Rain @2
raindrop|rain drop => Raindrop @3
thunderstorm|storm => Thunderstorm @2
thunder|thunderclap => Thunder @2.2
wind|breeze|gust|windy! => Wind @2
wind noise|wind into microphone|wind blow into microphone|wind buffet|wind hitting microphone|wind on microphone => Wind noise (microphone) @4
rustl leaves|leaves rustl|rustl of leaves => Rustling leaves @4
rustl => Rustle @2
stream|brook|creek|babbl brook|river => Stream @2
waterfall => Waterfall @2.5
ocean|sea!|seas! => Ocean @2
wave|surf => Waves, surf @2.1
water => Water @1.3
splash|splatter|splish => Splash, splatter @2
# Drips beat the tap they fall from ("water drips from the faucet").
drip|water drop|drop of water|droplet|dripp => Drip @3.2
pour => Pour @2
trickl|dribbl => Trickle, dribble @2
gurgl|bubbl => Gurgling @2
boil => Boiling @2
gush => Gush @2
spray => Spray @2
slosh => Slosh @2
steam => Steam @2
hiss => Hiss @1.8
fire|flame|campfire|bonfire|fireplace => Fire @1.8
crackl => Crackle @2
firework => Fireworks @2.5
firecracker => Firecracker @3
# --- animals
dog|puppy|pup|hound|puppies! => Dog @1
bark|woof => Bark @2
yip|yap|yelp => Yip @2
bow wow|bow-wow => Bow-wow @3
howl => Howl @2
growl|snarl => Growling @2
whimper|whin => Whimper (dog) @3 dog
whimper => Whimper @2
cat|kitten|kitty => Cat @1
meow|mew|miaow|meowing => Meow @2
purr => Purr @2
caterwaul => Caterwaul @2
horse|pony => Horse @1
neigh|whinn => Neigh, whinny @2
clip clop|clip-clop|clippity|hoof|hooves|gallop|trot => Clip-clop @2.3
cow!|cows!|cattle|bull|calf|calves! => Cattle, bovinae @1
moo!|moos!|mooing!|mooed! => Moo @2
pig|hog|piglet|swine => Pig @1
oink|squeal => Oink @3 pig
oink => Oink @2
goat => Goat @1
sheep|lamb => Sheep @1
bleat|baa => Bleat @2
chicken|hen!|hens!|chick!|chicks! => Chicken, rooster @1
rooster|cockerel => Chicken, rooster @1
crow|crowing! => Crowing, cock-a-doodle-doo @3 rooster
cock-a-doodle-doo|cock a doodle doo => Crowing, cock-a-doodle-doo @4
cluck|cackl => Cluck @2
turkey => Turkey @1
gobbl => Gobble @2
duck => Duck @1
quack => Quack @2
goose|geese => Goose @1
bird|birdie => Bird @1
chirp|tweet|twitter|chirrup|warbl|trill => Chirp, tweet @2
sing!|sings!|singing!|sang!|song|call!|calls!|calling! => Bird vocalization, bird call, bird song @3 bird
# "birds chirp" is Chirp, tweet: a sound verb that names a class beats its source's general call.
birdsong|bird song|bird call|birds call|birds sing|bird sing => Bird vocalization, bird call, bird song @4
squawk|screech => Squawk @2
pigeon|dove => Pigeon, dove @1
coo!|coos!|cooing!|cooed! => Coo @2
crow!|crows!|raven => Crow @1
caw => Caw @2
owl => Owl @1
hoot => Hoot @2
wings flap|flap wings|flapping wings|wing flap|flutter|wing beat => Bird flight, flapping wings @4
flap => Flap @1.8
insect|bug => Insect @1.5
cricket => Cricket @2.4
cicada => Insect @2
mosquito => Mosquito @2
housefly|fly buzz|flies buzz => Fly, housefly @2.5
bee!|bees!|wasp|hornet|bumblebee => Bee, wasp, etc. @2
buzz => Buzz @2
frog|toad => Frog @1
croak|ribbit => Croak @2
snake => Snake @1
rattlesnake => Rattle @3
rattl => Rattle @2
whale => Whale vocalization @2
lion|tiger|big cat => Roaring cats (lions, tigers) @1.5
roar => Roar @1.9
mouse|mice|rat!|rats!|rodent|hamster => Rodents, rats, mice @1.5
squeak => Squeak @2
animal => Animal @1
wolf|wolves|coyote|jackal => Canidae, dogs, wolves @1
# --- people
man|men|woman|women|person|people|someone|somebody|guy|lady|ladies!|gentleman|male|female|he!|she!|speaker|announcer|narrator|reporter|host|adult|teenager|girl|boy => Speech @1
child|children|kid|kids!|toddler => Child speech, kid speaking @1
baby|babies!|infant => Baby cry, infant cry @1
speak|talk|spoke|say|said|voice|speech|announc|lectur|preach|utter|address => Speech @2
speak|talk|say|voice => Child speech, kid speaking @3 child
conversation|convers|chat! => Conversation @2.1
narrat|monologue => Narration, monologue @2.1
whisper => Whispering @2.2
shout|holler => Shout @2
yell => Yell @2
bellow => Bellow @2
whoop => Whoop @2
scream|shriek => Screaming @2.1
shout|yell|scream|shriek => Children shouting @3 child
laugh|laughter => Laughter @2
laugh|giggl => Baby laughter @3 baby
giggl => Giggle @2
chuckl|chortl => Chuckle, chortle @2
snicker => Snicker @2
cry|cries!|sob|weep|wail => Crying, sobbing @2
cry|cries!|wail|scream|fuss => Baby cry, infant cry @3 baby
babbl|coo!|cooing! => Babbling @3 baby
sing!|sings!|singing!|sang!|sung!|singer!|singers!|vocalist|vocal => Singing @2
child sing|kid sing|children sing => Child singing @4
choir|chorus => Choir @2.2
chant => Chant @2
yodel => Yodeling @2
rap! => Rapping @2
hum => Hum @1.8
hum => Humming @3 person
whistl => Whistle @2
whistl => Whistling @3 person
# A whistle that is blown is the instrument, even in a person's hands ("blows his whistle").
blow whistl|whistle! blow|whistle! blown! => Whistle @4
groan|moan => Groan @2
grunt => Grunt @2
breath|inhal|exhal => Breathing @2
wheez => Wheeze @2
snore|snoring!|snorer => Snoring @2.3
gasp => Gasp @2
pant => Pant @2
snort => Snort @2
cough => Cough @2.3
throat clear|clear throat|clears throat|clearing throat|clear his throat|clears her throat => Throat clearing @4
sneez => Sneeze @2.3
sniff|sniffl => Sniff @2
sigh => Sigh @2
burp|belch => Burping, eructation @2
hiccup => Hiccup @2
fart => Fart @2
gargl => Gargling @2
chew|munch|eat!|eating! => Chewing, mastication @2
clap => Clapping @2
applau|applaud|applause|ovation => Applause @2.2
cheer => Cheering @2.1
snap finger|finger snap|snapping finger|snaps his finger|snaps her finger => Finger snapping @4
footstep|step|walk|stomp|tread|pace!|pacing! => Walk, footsteps @2
run!|runs!|running!|jog => Run @3 person
shuffl => Shuffle @2
heartbeat|heart beat|heart beating|heart sound => Heart sounds, heartbeat @3
crowd|audience|spectator|fans! => Crowd @1.2
crowd roar|roar of crowd|audience roar|crowd goes wild => Crowd @4
murmur|hubbub|babble! => Hubbub, speech noise, speech babble @2
chatter => Chatter @2
play|playing! => Children playing @3 child
# --- music
music|tune|melody => Music @1.6
background music => Background music @4
song! => Song @1.7
piano => Piano @2.1
electric piano|keyboard piano => Electric piano @4
organ => Organ @2.1
synth|synthesizer|synthesiser => Synthesizer @2.1
guitar => Guitar @2.1
electric guitar => Electric guitar @4
acoustic guitar => Acoustic guitar @4
bass guitar => Bass guitar @4
strum => Strum @2
pluck => Plucked string instrument @2
banjo => Banjo @2.1
sitar => Sitar @2.1
mandolin => Mandolin @2.1
ukulele|uke! => Ukulele @2.1
harp => Harp @2.1
drum kit|drum set|drumkit|drumset => Drum kit @4
drum machine => Drum machine @4
drum roll|drumroll => Drum roll @4
snare => Snare drum @2.3
bass drum|kick drum => Bass drum @4
drum => Drum @2
timpani => Timpani @2.1
tabla => Tabla @2.1
cymbal => Cymbal @2.3
hi-hat|hihat|hi hat => Hi-hat @2.3
tambourine => Tambourine @2.1
maraca => Maraca @2.1
gong => Gong @2.1
xylophone|marimba => Marimba, xylophone @2.1
glockenspiel => Glockenspiel @2.1
vibraphone => Vibraphone @2.1
steel drum|steelpan|steel pan => Steelpan @4
orchestra => Orchestra @2.1
brass|brass band|brass section => Brass instrument @2.1
french horn => French horn @4
trumpet|bugle|cornet => Trumpet @2.1
trombone => Trombone @2.1
tuba => Brass instrument @2.1
violin|fiddle => Violin, fiddle @2.1
cello => Cello @2.1
double bass|upright bass|contrabass => Double bass @4
string section|strings! => String section @2
flute|piccolo => Flute @2.1
saxophone|sax! => Saxophone @2.1
clarinet => Clarinet @2.1
oboe|bassoon|woodwind => Wind instrument, woodwind instrument @2.1
harmonica => Harmonica @2.1
accordion => Accordion @2.1
bagpipe => Bagpipes @2.1
didgeridoo => Didgeridoo @2.1
percussion => Percussion @2.1
church bell|church bells|bell tower|cathedral bell => Church bell @4
bell => Church bell @3 church
bicycle bell|bike bell => Bicycle bell @4
jingle bell|sleigh bell => Jingle bell @4
wind chime => Wind chime @4
doorbell|door bell => Doorbell @4
cowbell|cow bell => Cowbell @4
bell => Bell @2
chime => Chime @2
# The verb names the sound ("a bell dings" is Ding, not Bell).
ding!|dings!|dinged!|dinging! => Ding @2.3
ding dong|ding-dong => Ding-dong @4
jingl|tinkl => Jingle, tinkle @2
# --- home and machines
door => Door @1.5
slam => Slam @2
door bang|bang shut|slam shut|shut with bang => Slam @3
knock => Knock @2.2
creak => Creak @2
sliding door => Sliding door @4
cupboard|cabinet => Cupboard open or close @2
drawer => Drawer open or close @2
phone|telephone|cellphone|cell phone => Telephone @2
ring|rang! => Telephone bell ringing @3 phone
ringtone|ring tone => Ringtone @4
dial tone => Dial tone @4
dial|dialing! => Telephone dialing, DTMF @3 phone
busy signal => Busy signal @4
alarm clock => Alarm clock @4
smoke alarm|smoke detector => Smoke detector, smoke alarm @4
fire alarm => Fire alarm @4
alarm => Alarm @2
siren => Siren @2.1
buzzer => Buzzer @2.3
beep|bleep => Beep, bleep @2.2
ping => Ping @2
whistl => Whistle @2
clock => Clock @1.6
# A clock's ticking is the Tick-tock class, not a lone tick.
tick tock|tick-tock|clock tick|tick clock => Tick-tock @4
tick => Tick @2
ring|rang! => Bell @0.5
vacuum cleaner|vacuum|hoover => Vacuum cleaner @3
sewing machine => Sewing machine @4
hair dryer|hairdryer|blow dryer|blow-dryer => Hair dryer @4
toilet flush|flush toilet|toilet|flush => Toilet flush @3
electric toothbrush => Electric toothbrush @4
toothbrush|brush teeth|brushing teeth => Toothbrush @3
electric shaver|electric razor|shaver|razor => Electric shaver, electric razor @3
# Below sound verbs: a microwave that beeps or dings is heard as the beep.
microwave => Microwave oven @2.1
blender => Blender @3
fry|frying|frying pan => Frying (food) @3
sizzl => Sizzle @2.1
chopping food|chopping vegetables|chop vegetables|cutting vegetables => Chopping (food) @4
chop => Chop @2
cash register => Cash register @4
printer|printing! => Printer @2.5
typewriter => Typewriter @3
computer keyboard|keyboard => Computer keyboard @2.5
# Typing on a keyboard is Typing: the sound verb beats the device it is made on.
typ => Typing @2.6
writ|pencil => Writing @1.9
keys jangl|keys jingl|jangl keys|jingl keys|keys! => Keys jangling @3
coin => Coin (dropping) @2.5
zipper|unzip|zip! => Zipper (clothing) @2.5
shuffl cards|shuffling cards|card shuffl => Shuffling cards @4
scissors => Scissors @2.5
water tap|faucet|tap water|tap run|tap turn|turn on tap|turn tap => Water tap, faucet @3
the tap!|from tap!|on tap!|off tap! => Water tap, faucet @3 water
sink => Sink (filling or washing) @2.5
bathtub|bath => Bathtub (filling or washing) @2.5
dishes|dish|plates|pots and pans|pots_and_pans|pans! => Dishes, pots, and pans @2.5
cutlery|silverware|utensils|fork|knife => Cutlery, silverware @2.3
fan => Mechanical fan @2
air condition|air conditioner|ac unit => Air conditioning @3
camera|shutter => Camera @2
gear => Gears @1.8
ratchet => Ratchet, pawl @2
pulley => Pulleys @2
tool => Tools @1.2
hammer => Hammer @2.3
jackhammer|jack hammer => Jackhammer @3
saw!|saws!|sawing! => Sawing @2.2
sand!|sanding!|sander => Sanding @2.2
filing!|rasp => Filing (rasp) @2.2
power tool => Power tool @3
drill => Drill @2.3
dental drill|dentist drill => Dental drill, dentist's drill @4
static => Static @2
white noise => White noise @4
pink noise => Pink noise @4
radio => Radio @1.8
television|tv! => Television @1.8
mechanism|machine|machinery => Mechanisms @1.3
motor => Engine @1.4
hum => Mains hum @2.5 electric
vibrat => Vibration @2
rumbl => Rumble @2
whir|whirr => Whir @2
click => Clicking @2
clickety|clackety => Clickety-clack @3
clank|clang => Clang @2
clatter => Clatter @2.1
thud|thump => Thump, thud @2
thunk => Thunk @2
bang => Bang @2
crash|smash => Smash, crash @2
shatter => Shatter @2.2
break|broke => Breaking @2
glass => Glass @1.4
clink|chink => Chink, clink @2.2
tap => Tap @2
scrap => Scrape @2
match strik|strik match|strik a match|matchstick|light a match|match lit => Scrape @4
scratch => Scratch @2
rub!|rubs!|rubbing!|rubbed! => Rub @2
crumpl|crinkl => Crumpling, crinkling @2
tear!|tearing!|tears!|rip => Tearing @2
crush => Crushing @2
crunch => Crunch @2
whoosh|swoosh|swish => Whoosh, swoosh, swish @2
boing => Boing @2
pop => Burst, pop @2
explo|blast|detonat => Explosion @2.2
boom => Boom @2
gunshot|gun shot|gunfire|gun fire|gun|shot!|shots!|shoot|rifle|pistol => Gunshot, gunfire @2.2
machine gun|automatic gun|automatic gunfire => Machine gun @4
cap gun|toy gun => Cap gun @4
artillery|cannon => Artillery fire @2.3
wood => Wood @1.1
splinter => Splinter @2
crack => Crack @1.9
sonar => Sonar @2
echo => Echo @1.5
reverb => Reverberation @1.5
noise => Noise @0.6
# --- everyday descriptions common in dataset captions
clack|clacking! => Clicking @1.95
bonk|bonking! => Thump, thud @2
snap|snapping! => Crack @1.9
squeal => Squeal @1.9
whin => Whimper @1.9
squeek => Squeak @2
clop|clops! => Clip-clop @2.3
woosh => Whoosh, swoosh, swish @2
airhorn => Air horn, truck horn @3
burst => Burst, pop @2
hit!|hits!|hitting!|strike|struck! => Whack, thwack @1.5
drain => Gurgling @1.9
fill!|fills!|filling! => Fill (with liquid) @1.9
ventilation|air vent|vent! => Air conditioning @2
crank => Ratchet, pawl @1.9
switch => Clicking @1.8
tumbl => Clatter @1.8
revolver|shotgun => Gunshot, gunfire @2.2
pray => Speech @1.9
communicat => Conversation @2
city ambiance|city ambience|city noise|urban ambiance|urban ambience|street noise => Outside, urban or manmade @3
outdoor ambiance|outdoor ambience|nature sound|nature ambiance|nature ambience|outdoors! => Outside, rural or natural @3
ambiance|ambience|room tone => Environmental noise @1.7
mechanical sound|mechanical noise|mechanical => Mechanisms @1.5
synthesiz|synthesis => Synthesizer @1.7
laser => Zing @1.8
sputter => Engine knocking @1.8
spin!|spinning!|spins! => Whir @1.5
grind => Mechanisms @1.6
"""


@dataclass(frozen=True)
class Term:
    label: str
    priority: float
    context: str  # "" or a source kind from CONTEXTS
    pattern: re.Pattern[str]


# Source kinds that switch a word's sense; found anywhere in the clause.
CONTEXTS: dict[str, str] = {
    "person": r"\b(?:man|men|woman|women|person|people|someone|somebody|guy|lady|ladies|gentleman|male|female|he|she|"
    r"boy|girl|boys|girls|child|children|kid|kids|speaker|his|her|they)\b",
    "child": r"\b(?:child|children|kid|kids|boy|boys|girl|girls|toddler|toddlers)\b",
    "baby": r"\b(?:baby|babies|infant|infants|newborn)\b",
    "dog": r"\b(?:dog|dogs|puppy|puppies|pup|pups|hound)\b",
    "bird": r"\b(?:bird|birds|birdie|songbird|songbirds)\b",
    "rooster": r"\b(?:rooster|roosters|cock|cockerel|chicken|chickens|hen|hens)\b",
    "goose": r"\b(?:goose|geese)\b",
    "pig": r"\b(?:pig|pigs|hog|hogs|piglet|piglets)\b",
    "phone": r"\b(?:phone|phones|telephone|telephones|cellphone|cell phone)\b",
    "vehicle": r"\b(?:car|cars|truck|trucks|vehicle|vehicles|engine|engines|motor|bus|van|motorcycle|motorbike|"
    r"tractor|jeep|suv|sedan)\b",
    "car": r"\b(?:car|cars|vehicle|vehicles|truck|trucks|van|suv|sedan|automobile)\b",
    "tire": r"\b(?:tire|tires|tyre|tyres)\b",
    "train": r"\b(?:train|trains|locomotive|railroad|railway)\b",
    "church": r"\b(?:church|churches|cathedral|chapel|temple|monastery)\b",
    # "the tap" is a faucet where water is about, a light knock elsewhere.
    "water": r"\b(?:water|sink|wash|washes|washing|rinse|rinses|rinsing)\b",
    "electric": r"\b(?:electric|electrical|electricity|transformer|power line|power lines|mains|fluorescent)\b",
}

# Sounds that are heard as a continuous bed rather than as separate happenings.
TEXTURES: frozenset[str] = frozenset(
    {
        "Rain", "Rain on surface", "Wind", "Wind noise (microphone)", "Thunderstorm", "Stream", "Waterfall",
        "Ocean", "Waves, surf", "Water", "Idling", "Engine", "Traffic noise, roadway noise", "Insect", "Cricket",
        "Rustling leaves", "Hum", "Mains hum", "Mechanical fan", "Air conditioning", "Crowd",
        "Hubbub, speech noise, speech babble", "Background music", "White noise", "Pink noise", "Static",
        "Fire", "Crackle", "Vibration", "Rumble", "Environmental noise", "Noise", "Heavy engine (low frequency)",
        "Medium engine (mid frequency)", "Light engine (high frequency)", "Frying (food)", "Sizzle", "Boiling",
    }
)

# Short, countable sounds: one occurrence lasts about a second, not a whole slot.
IMPULSES: frozenset[str] = frozenset(
    {
        "Bark", "Yip", "Bow-wow", "Meow", "Moo", "Oink", "Bleat", "Cluck", "Quack", "Honk", "Caw", "Hoot", "Coo",
        "Croak", "Squawk", "Chirp, tweet", "Crowing, cock-a-doodle-doo", "Gobble", "Neigh, whinny", "Roar",
        "Cough", "Sneeze", "Sniff", "Sigh", "Gasp", "Hiccup", "Burping, eructation", "Shout", "Yell", "Whoop",
        "Bellow", "Screaming", "Clapping", "Finger snapping", "Snort", "Grunt", "Throat clearing", "Chuckle, chortle",
        "Knock", "Slam", "Door", "Doorbell", "Ding-dong", "Ding", "Bell", "Chime", "Beep, bleep", "Ping", "Tick",
        "Clicking", "Tap", "Bang", "Thump, thud", "Thunk", "Smash, crash", "Shatter", "Breaking", "Chink, clink",
        "Clang", "Burst, pop", "Explosion", "Boom", "Gunshot, gunfire", "Cap gun", "Artillery fire", "Firecracker",
        "Whoosh, swoosh, swish", "Boing", "Vehicle horn, car horn, honking", "Toot", "Air horn, truck horn",
        "Train horn", "Whistle", "Buzzer", "Hammer", "Chop", "Crack", "Splinter", "Drip", "Plop", "Splash, splatter",
        "Coin (dropping)", "Camera", "Snare drum", "Bass drum", "Drum", "Cymbal", "Gong", "Cowbell", "Wood block",
        "Bicycle bell", "Church bell", "Cash register", "Zing", "Thunder", "Slap, smack", "Whack, thwack", "Whip",
        "Cupboard open or close", "Drawer open or close", "Sneeze", "Rimshot", "Raindrop", "Telephone bell ringing",
    }
)

# Impulses over in a fraction of a second: one stated only by its start ("a click at 6 s") is that short.
BRIEF: frozenset[str] = frozenset(
    {"Clicking", "Tick", "Tap", "Finger snapping", "Camera", "Burst, pop", "Chink, clink", "Ping", "Drip", "Plop",
     "Coin (dropping)", "Snare drum", "Rimshot", "Wood block", "Splinter", "Raindrop"}
)

# Nouns of people and animals: a leading number counts sources, not repeats.
SOURCE_NOUNS = re.compile(
    r"\b(?:men|women|people|persons|children|kids|boys|girls|babies|dogs|cats|birds|horses|cows|pigs|goats|sheep|"
    r"ducks|geese|chickens|roosters|frogs|cars|trucks|trains|planes|helicopters|motorcycles|bells|guitars|"
    r"voices|singers|speakers)\b"
)

NUMBER_WORDS: dict[str, int] = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15,
    "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20, "thirty": 30, "forty": 40,
    "fifty": 50, "sixty": 60, "a couple of": 2, "a pair of": 2, "a single": 1, "single": 1,
}


def _compile_alternative(alt: str) -> str:
    words = []
    for word in alt.split():
        if word.endswith("!"):
            words.append(re.escape(word[:-1]))
        else:
            words.append(re.escape(word) + _SUFFIX)
    # One other word may sit between the words of a pair ("car's loud horn").
    return r"\b" + r"(?:'s)?\s+(?:[\w'-]+\s+)?".join(words) + r"\b"


@cache
def terms() -> tuple[Term, ...]:
    """The parsed table, highest priority first (stable within a priority)."""
    out: list[Term] = []
    for raw in _TABLE.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        pattern, rest = line.split("=>")
        label_part, _, meta = rest.partition("@")
        bits = meta.split()
        priority = float(bits[0])
        context = bits[1] if len(bits) > 1 else ""
        if context and context not in CONTEXTS:
            raise ValueError(f"unknown context {context!r} in lexicon line {line!r}")
        regex = "|".join(_compile_alternative(a.strip()) for a in pattern.split("|") if a.strip())
        out.append(Term(label_part.strip(), priority, context, re.compile(regex)))
    out.sort(key=lambda t: -t.priority)
    return tuple(out)


@cache
def _context_patterns() -> dict[str, re.Pattern[str]]:
    return {k: re.compile(v) for k, v in CONTEXTS.items()}


def contexts_in(text: str) -> frozenset[str]:
    """The source kinds ``text`` mentions."""
    return frozenset(k for k, p in _context_patterns().items() if p.search(text))


@dataclass(frozen=True)
class Hit:
    label: str
    priority: float
    start: int  # character offset of the matched words in the text
    end: int


def find_hits(text: str, context: frozenset[str]) -> list[Hit]:
    """Every table entry found in ``text``, best first: priority, then earliest position."""
    hits = []
    for term in terms():
        if term.context and term.context not in context:
            continue
        m = term.pattern.search(text)
        if m:
            hits.append(Hit(term.label, term.priority, m.start(), m.end()))
    hits.sort(key=lambda h: (-h.priority, h.start))
    return hits
